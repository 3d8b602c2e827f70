"""The database refuses to change a signed contract's terms, or any signature."""

from django.db import migrations

SIGNED_TERMS = [
    "number",
    "customer_id",
    "title",
    "body",
    "amount",
    "currency",
    "start_date",
    "end_date",
    "payment_terms_days",
    "version",
]

new_terms = ", ".join(f"NEW.{column}" for column in SIGNED_TERMS)
old_terms = ", ".join(f"OLD.{column}" for column in SIGNED_TERMS)

FORBID = f"""
CREATE FUNCTION contracts_contract_freeze_signed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ROW({new_terms}) IS DISTINCT FROM ROW({old_terms})
       AND EXISTS (SELECT 1 FROM contracts_contractsignature WHERE contract_id = OLD.id) THEN
        RAISE EXCEPTION 'contract % is signed; its terms are frozen', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER contracts_contract_freeze_signed
    BEFORE UPDATE ON contracts_contract
    FOR EACH ROW EXECUTE FUNCTION contracts_contract_freeze_signed();

CREATE FUNCTION contracts_signature_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signatures are immutable (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER contracts_signature_immutable
    BEFORE UPDATE OR DELETE ON contracts_contractsignature
    FOR EACH ROW EXECUTE FUNCTION contracts_signature_immutable();
"""

ALLOW = """
DROP TRIGGER IF EXISTS contracts_signature_immutable ON contracts_contractsignature;
DROP FUNCTION IF EXISTS contracts_signature_immutable();
DROP TRIGGER IF EXISTS contracts_contract_freeze_signed ON contracts_contract;
DROP FUNCTION IF EXISTS contracts_contract_freeze_signed();
"""


class Migration(migrations.Migration):
    dependencies = [("contracts", "0004_signing")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
