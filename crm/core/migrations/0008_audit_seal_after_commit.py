"""Audit events are written without the chain head's lock and sealed afterwards.

An event is INSERTed with its payload hash; `seq`, `prev_hash` and `hash` stay NULL until
`crm.core.audit.audit_seal` chains it. The triggers follow: an INSERT must leave the chain
fields NULL, and the only UPDATE allowed sets the chain fields of an unsealed event, once,
changing nothing else. DELETE and TRUNCATE stay refused.

The events already there were chained when written; they keep their hashes (an empty
`payload_hash` marks them) and the chain continues from the head.
"""

from django.conf import settings
from django.db import migrations, models

SEAL_ONLY = """
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

CREATE FUNCTION core_auditevent_insert_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
        RAISE EXCEPTION 'audit events are written unsealed; only the sealer chains them'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER core_auditevent_insert_unsealed
    BEFORE INSERT ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_insert_unsealed();
"""

WRITE_ONCE = """
DROP TRIGGER IF EXISTS core_auditevent_insert_unsealed ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_insert_unsealed();
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0007_notifications'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['-id'], 'verbose_name': 'audit event', 'verbose_name_plural': 'audit events'},
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='audit_target_idx',
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='audit_parent_idx',
        ),
        migrations.AddField(
            model_name='auditevent',
            name='payload_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='payload hash'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(editable=False, null=True, unique=True, verbose_name='chain position'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['target_type', 'target_id', 'id'], name='audit_target_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['parent_type', 'parent_id', 'id'], name='audit_parent_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_unsealed_idx'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('hash__isnull', True), ('prev_hash__isnull', True), ('seq__isnull', True)), models.Q(('hash__isnull', False), ('prev_hash__isnull', False), ('seq__isnull', False)), _connector='OR'), name='audit_sealed_whole'),
        ),
        migrations.RunSQL(SEAL_ONLY, WRITE_ONCE),
    ]
