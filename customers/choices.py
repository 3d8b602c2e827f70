from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    INDIVIDUAL = "individual", _("Individual")


class CustomerStatus(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    CHURNED = "churned", _("Churned")


class CustomerTier(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    KEY = "key", _("Key account")
    STANDARD = "standard", _("Standard")
    SMALL = "small", _("Small")


class Region(models.TextChoices):
    """Where a customer is: a provincial-level region of China (GB/T 2260), or abroad. A
    fixed list, not free text, so that reports and segments group "上海", "Shanghai" and
    "上海市" as one region."""

    BEIJING = "beijing", _("Beijing")
    TIANJIN = "tianjin", _("Tianjin")
    HEBEI = "hebei", _("Hebei")
    SHANXI = "shanxi", _("Shanxi")
    INNER_MONGOLIA = "inner_mongolia", _("Inner Mongolia")
    LIAONING = "liaoning", _("Liaoning")
    JILIN = "jilin", _("Jilin")
    HEILONGJIANG = "heilongjiang", _("Heilongjiang")
    SHANGHAI = "shanghai", _("Shanghai")
    JIANGSU = "jiangsu", _("Jiangsu")
    ZHEJIANG = "zhejiang", _("Zhejiang")
    ANHUI = "anhui", _("Anhui")
    FUJIAN = "fujian", _("Fujian")
    JIANGXI = "jiangxi", _("Jiangxi")
    SHANDONG = "shandong", _("Shandong")
    HENAN = "henan", _("Henan")
    HUBEI = "hubei", _("Hubei")
    HUNAN = "hunan", _("Hunan")
    GUANGDONG = "guangdong", _("Guangdong")
    GUANGXI = "guangxi", _("Guangxi")
    HAINAN = "hainan", _("Hainan")
    CHONGQING = "chongqing", _("Chongqing")
    SICHUAN = "sichuan", _("Sichuan")
    GUIZHOU = "guizhou", _("Guizhou")
    YUNNAN = "yunnan", _("Yunnan")
    TIBET = "tibet", _("Tibet")
    SHAANXI = "shaanxi", _("Shaanxi")
    GANSU = "gansu", _("Gansu")
    QINGHAI = "qinghai", _("Qinghai")
    NINGXIA = "ningxia", _("Ningxia")
    XINJIANG = "xinjiang", _("Xinjiang")
    HONG_KONG = "hong_kong", _("Hong Kong")
    MACAO = "macao", _("Macao")
    TAIWAN = "taiwan", _("Taiwan")
    OUTSIDE_CHINA = "outside_china", _("Outside China")


#: Each region's names in Chinese as imported files write them: the full official name
#: (GB/T 2260, "广西壮族自治区") and the short one ("广西"). The English names are the labels.
REGION_CHINESE_NAMES: dict[str, tuple[str, str]] = {
    Region.BEIJING: ("北京市", "北京"),
    Region.TIANJIN: ("天津市", "天津"),
    Region.HEBEI: ("河北省", "河北"),
    Region.SHANXI: ("山西省", "山西"),
    Region.INNER_MONGOLIA: ("内蒙古自治区", "内蒙古"),
    Region.LIAONING: ("辽宁省", "辽宁"),
    Region.JILIN: ("吉林省", "吉林"),
    Region.HEILONGJIANG: ("黑龙江省", "黑龙江"),
    Region.SHANGHAI: ("上海市", "上海"),
    Region.JIANGSU: ("江苏省", "江苏"),
    Region.ZHEJIANG: ("浙江省", "浙江"),
    Region.ANHUI: ("安徽省", "安徽"),
    Region.FUJIAN: ("福建省", "福建"),
    Region.JIANGXI: ("江西省", "江西"),
    Region.SHANDONG: ("山东省", "山东"),
    Region.HENAN: ("河南省", "河南"),
    Region.HUBEI: ("湖北省", "湖北"),
    Region.HUNAN: ("湖南省", "湖南"),
    Region.GUANGDONG: ("广东省", "广东"),
    Region.GUANGXI: ("广西壮族自治区", "广西"),
    Region.HAINAN: ("海南省", "海南"),
    Region.CHONGQING: ("重庆市", "重庆"),
    Region.SICHUAN: ("四川省", "四川"),
    Region.GUIZHOU: ("贵州省", "贵州"),
    Region.YUNNAN: ("云南省", "云南"),
    Region.TIBET: ("西藏自治区", "西藏"),
    Region.SHAANXI: ("陕西省", "陕西"),
    Region.GANSU: ("甘肃省", "甘肃"),
    Region.QINGHAI: ("青海省", "青海"),
    Region.NINGXIA: ("宁夏回族自治区", "宁夏"),
    Region.XINJIANG: ("新疆维吾尔自治区", "新疆"),
    Region.HONG_KONG: ("香港特别行政区", "香港"),
    Region.MACAO: ("澳门特别行政区", "澳门"),
    Region.TAIWAN: ("台湾省", "台湾"),
    Region.OUTSIDE_CHINA: ("中国境外", "境外"),
}


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail")
    FINANCE = "finance", _("Finance")
    HEALTHCARE = "healthcare", _("Healthcare")
    TECHNOLOGY = "technology", _("Technology")
    EDUCATION = "education", _("Education")
    LOGISTICS = "logistics", _("Logistics")
    ENERGY = "energy", _("Energy")
    GOVERNMENT = "government", _("Government")
    OTHER = "other", _("Other")


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    NOTE = "note", _("Note")


class OpportunityStage(models.TextChoices):
    PROSPECTING = "prospecting", _("Prospecting")
    QUALIFICATION = "qualification", _("Qualification")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


# The stages a deal is still being worked in, in the order it moves through them.
OPEN_STAGES = (
    OpportunityStage.PROSPECTING,
    OpportunityStage.QUALIFICATION,
    OpportunityStage.PROPOSAL,
    OpportunityStage.NEGOTIATION,
)
CLOSED_STAGES = (OpportunityStage.WON, OpportunityStage.LOST)


class OpportunitySource(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    WEB = "web", _("Website")
    CAMPAIGN = "campaign", _("Campaign")
    EVENT = "event", _("Event")
    PARTNER = "partner", _("Partner")
    OUTBOUND = "outbound", _("Outbound prospecting")
    EXISTING = "existing", _("Existing customer")
    OTHER = "other", _("Other")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    TODO = "todo", _("To-do")


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
