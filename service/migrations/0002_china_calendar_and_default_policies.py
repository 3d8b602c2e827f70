"""The default business calendar (Asia/Shanghai, Monday to Friday 09:00–12:00 and 13:00–18:00)
with China's public holidays and make-up working days (调休), and one SLA policy per priority.

2026 follows the State Council's notice of the 2026 arrangement (国务院办公厅关于2026年部分节假日安排的通知). For 2027 only
the statutory holidays themselves are seeded (全国年节及纪念日放假办法, as revised in 2024);
the bridging days and make-up working days of the 2027 arrangement are to be entered in the
admin (Service desk › Holidays) once the State Council publishes them."""

import datetime

from django.db import migrations

D = datetime.date

HOLIDAYS_2026 = [
    *[(D(2026, 1, day), "元旦 New Year's Day") for day in (1, 2, 3)],
    *[(D(2026, 2, day), "春节 Spring Festival") for day in range(15, 24)],
    *[(D(2026, 4, day), "清明节 Qingming Festival") for day in (4, 5, 6)],
    *[(D(2026, 5, day), "劳动节 Labour Day") for day in range(1, 6)],
    *[(D(2026, 6, day), "端午节 Dragon Boat Festival") for day in (19, 20, 21)],
    *[(D(2026, 9, day), "中秋节 Mid-Autumn Festival") for day in (25, 26, 27)],
    *[(D(2026, 10, day), "国庆节 National Day") for day in range(1, 8)],
]
# Weekend days worked instead, each with a weekday's hours.
WORKDAYS_2026 = [
    (D(2026, 1, 4), "元旦调休 New Year make-up day"),
    (D(2026, 2, 14), "春节调休 Spring Festival make-up day"),
    (D(2026, 2, 28), "春节调休 Spring Festival make-up day"),
    (D(2026, 5, 9), "劳动节调休 Labour Day make-up day"),
    (D(2026, 9, 20), "国庆节调休 National Day make-up day"),
    (D(2026, 10, 10), "国庆节调休 National Day make-up day"),
]
HOLIDAYS_2027 = [
    (D(2027, 1, 1), "元旦 New Year's Day"),
    *[(D(2027, 2, day), "春节 Spring Festival") for day in (5, 6, 7, 8)],  # eve and the first three days
    (D(2027, 4, 5), "清明节 Qingming Festival"),
    *[(D(2027, 5, day), "劳动节 Labour Day") for day in (1, 2)],
    (D(2027, 6, 9), "端午节 Dragon Boat Festival"),
    (D(2027, 9, 15), "中秋节 Mid-Autumn Festival"),
    *[(D(2027, 10, day), "国庆节 National Day") for day in (1, 2, 3)],
]

# (priority, first response, resolution) in business minutes; a working day has 480.
POLICIES = [
    ("urgent", "Urgent", 60, 480),
    ("high", "High", 240, 1440),
    ("normal", "Normal", 480, 2400),
    ("low", "Low", 960, 4800),
]
# Strategic customers get faster answers on what matters most.
STRATEGIC = [
    ("urgent", "Urgent · strategic", 30, 240),
    ("high", "High · strategic", 120, 960),
]


def calendar_seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("service", "BusinessCalendar")
    WorkingHours = apps.get_model("service", "WorkingHours")
    Holiday = apps.get_model("service", "Holiday")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    calendar, created = BusinessCalendar.objects.get_or_create(
        name="China (Asia/Shanghai)", defaults={"time_zone": "Asia/Shanghai", "is_default": True}
    )
    if created:
        WorkingHours.objects.bulk_create(
            WorkingHours(calendar=calendar, weekday=weekday, starts=starts, ends=ends)
            for weekday in range(5)
            for starts, ends in ((datetime.time(9), datetime.time(12)), (datetime.time(13), datetime.time(18)))
        )
        Holiday.objects.bulk_create(
            [Holiday(calendar=calendar, date=day, name=name) for day, name in HOLIDAYS_2026 + HOLIDAYS_2027]
            + [
                Holiday(calendar=calendar, date=day, name=name, is_workday=True, works_like=0)
                for day, name in WORKDAYS_2026
            ]
        )
    for priority, name, response, resolution in POLICIES:
        SlaPolicy.objects.get_or_create(
            priority=priority,
            customer_tier="",
            kind="",
            is_active=True,
            defaults={"name": name, "first_response_minutes": response, "resolution_minutes": resolution},
        )
    for priority, name, response, resolution in STRATEGIC:
        SlaPolicy.objects.get_or_create(
            priority=priority,
            customer_tier="strategic",
            kind="",
            is_active=True,
            defaults={"name": name, "first_response_minutes": response, "resolution_minutes": resolution},
        )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    operations = [migrations.RunPython(calendar_seed, migrations.RunPython.noop)]
