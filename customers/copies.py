"""The customer's owner and name kept on the rows that hang off a customer (contacts,
contracts, orders), by the database itself.

Visibility then reads one indexed column (`customer_owner = rep`, in the order of the
list's sort) instead of "the customer is one of the rep's 333,000 customers", and the
searches match the customer's name on the row's own grams, without a join.

Two triggers per table make drift impossible whatever writes the rows (services, admin,
COPY, raw SQL): before a row is written its copies are read from its customer, so a value
written by anyone else is replaced; after a customer's owner or name changes, its rows are
updated in the same transaction. The customer row is read FOR SHARE, so a reassignment and
a new row of the same customer cannot interleave and leave the old owner behind.
"""

from django.conf import settings
from django.db import migrations, models
from django.utils.translation import gettext_lazy as _

FUNCTIONS = """
CREATE OR REPLACE FUNCTION customers_copies_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT owner_id, name INTO NEW.customer_owner_id, NEW.customer_name
    FROM customers_customer WHERE id = NEW.customer_id FOR SHARE;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION customers_copies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I SET customer_owner_id = $1, customer_name = $2 WHERE customer_id = $3', TG_ARGV[0])
    USING NEW.owner_id, NEW.name, NEW.id;
    RETURN NULL;
END $$;
"""


def customer_copies(table: str) -> migrations.RunSQL:
    """Backfill `table`'s customer_owner_id and customer_name and install its two triggers."""
    forward = f"""
{FUNCTIONS}
UPDATE {table} AS row SET customer_owner_id = customer.owner_id, customer_name = customer.name
FROM customers_customer AS customer WHERE customer.id = row.customer_id;

CREATE TRIGGER {table}_customer_copies
BEFORE INSERT OR UPDATE OF customer_id, customer_owner_id, customer_name ON {table}
FOR EACH ROW EXECUTE FUNCTION customers_copies_fill();

CREATE TRIGGER {table}_follows_customer
AFTER UPDATE OF owner_id, name ON customers_customer
FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION customers_copies_follow('{table}');
"""
    backward = f"""
DROP TRIGGER IF EXISTS {table}_follows_customer ON customers_customer;
DROP TRIGGER IF EXISTS {table}_customer_copies ON {table};
"""
    return migrations.RunSQL(forward, backward)


def customer_owner_field() -> models.ForeignKey:
    """The copy of the customer's owner: no constraint or index of its own (the triggers
    keep it right; each list's composite index starts with it)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer's owner"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        editable=False,
        related_name="+",
    )


def customer_name_field() -> models.CharField:
    return models.CharField(_("customer's name"), max_length=200, default="", editable=False)
