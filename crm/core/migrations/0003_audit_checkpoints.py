"""Signed checkpoints of the audit chain, and triggers that close the gaps left by 0002:
TRUNCATE of the events, and any change to the chain head other than moving it forward.

A superuser (or the tables' owner) can still disable triggers; the checkpoints, kept also
outside the database, are what make that visible to `verify_audit_chain`.
"""

from django.db import migrations, models

GUARD = """
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only();

CREATE FUNCTION core_auditchainhead_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit chain head only moves forward (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER core_auditchainhead_forward_only
    BEFORE UPDATE OR DELETE ON core_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION core_auditchainhead_forward_only();
CREATE TRIGGER core_auditchainhead_no_truncate
    BEFORE TRUNCATE ON core_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditchainhead_forward_only();

CREATE FUNCTION core_auditcheckpoint_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER core_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON core_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION core_auditcheckpoint_append_only();
CREATE TRIGGER core_auditcheckpoint_no_truncate
    BEFORE TRUNCATE ON core_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditcheckpoint_append_only();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS core_auditcheckpoint_no_truncate ON core_auditcheckpoint;
DROP TRIGGER IF EXISTS core_auditcheckpoint_append_only ON core_auditcheckpoint;
DROP FUNCTION IF EXISTS core_auditcheckpoint_append_only();
DROP TRIGGER IF EXISTS core_auditchainhead_no_truncate ON core_auditchainhead;
DROP TRIGGER IF EXISTS core_auditchainhead_forward_only ON core_auditchainhead;
DROP FUNCTION IF EXISTS core_auditchainhead_forward_only();
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_audit_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveBigIntegerField(editable=False, unique=True, verbose_name='checkpoint')),
                ('seq', models.BigIntegerField(editable=False, verbose_name='event')),
                ('hash', models.CharField(editable=False, max_length=64, verbose_name='event hash')),
                ('created_at', models.DateTimeField(editable=False, verbose_name='created')),
                ('key_id', models.CharField(editable=False, max_length=80, verbose_name='key fingerprint')),
                ('public_key_pem', models.TextField(editable=False, verbose_name='public key (PEM)')),
                ('signature', models.BinaryField(verbose_name='signature')),
                ('statement', models.BinaryField(verbose_name='signed statement')),
            ],
            options={
                'verbose_name': 'audit checkpoint',
                'verbose_name_plural': 'audit checkpoints',
                'ordering': ['-number'],
            },
        ),
        migrations.RunSQL(GUARD, UNGUARD),
    ]
