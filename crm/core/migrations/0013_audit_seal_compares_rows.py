"""The append-only trigger checks a seal by comparing the event's row with its chain fields
put back, instead of turning both rows into JSON: the same rule (the only UPDATE allowed
sets the chain fields of an unsealed event, changing nothing else) at a tenth of the cost,
which the sealer pays for every event (a hundred thousand after a large import).

The comparison uses each column type's equality, which every column of the table has."""

from django.db import migrations

COMPARE_ROWS = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unchained core_auditevent;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL THEN
        unchained := NEW;
        unchained.seq := OLD.seq;
        unchained.prev_hash := OLD.prev_hash;
        unchained.hash := OLD.hash;
        IF unchained IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

COMPARE_JSON = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NULL AND NEW.seq IS NOT NULL
           AND to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash' = to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0012_audit_source_api")]

    operations = [migrations.RunSQL(COMPARE_ROWS, COMPARE_JSON)]
