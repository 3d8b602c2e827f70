"""Fragment search that a GIN index serves for any fragment, Chinese two-character ones too,
without pg_trgm (the embedded server has no extensions).

A searchable model keeps a generated `search_grams text[]` column: every character and every
pair of adjacent characters of each word of its searchable fields, normalised (NFKC, lower
case; phones as their digits), with a GIN index. A search asks for the rows whose grams
contain the fragment's pairs (`@>`, served by the index; a one-character fragment asks for
the character), then rechecks each candidate field for the whole fragment (`strpos` on the
normalised text), which also decides *which* fields may match: a masked user's search is
checked against the name fields only, so a hidden phone or e-mail cannot be confirmed.

The SQL functions, created by crm.core's migration 0008, do all normalising, so the stored
grams and the searched ones agree byte for byte:

- `crm_search_text(text)`: NFKC, lower case, runs of white space as one space, trimmed;
- `crm_search_grams(VARIADIC text[])`: the stored grams of some fields (IMMUTABLE, so a
  generated column can use it; PL/pgSQL: the same in set-returning SQL cost milliseconds a
  row, on every insert and for hours in a backfill), sorted and without repeats by
  `array_to_tsvector` (byte order; a query per row for that cost twice the rest of the
  function, the better part of a customer's insert);
- `crm_search_query_grams(text)`: a fragment's pairs (its character for a one-character word).

Use: a model declares `search_grams = search_grams_field(F("name"), ...)` and
`indexes = [search_index("<model>_search_idx")]`; its app's selector calls
`search_filter(queryset, text, fields=[...])`.
"""

from contextlib import contextmanager

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import connections, models, transaction
from django.db.models import Func, Q, Value
from django.db.models.functions import Cast

from crm.core.capped_count import capped_count

GRAMS_FIELD = ArrayField(models.TextField())

GRAMS_FUNCTION = r"""
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
    RETURN tsvector_to_array(array_to_tsvector(grams));
END $$;
"""

SQL_FUNCTIONS = (
    r"""
CREATE OR REPLACE FUNCTION crm_search_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(lower(normalize(coalesce(value, ''), NFKC)), '\s+', ' ', 'g'))
$$;
"""
    + GRAMS_FUNCTION
    + r"""
CREATE OR REPLACE FUNCTION crm_search_query_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram ORDER BY gram), '{}')
    FROM regexp_split_to_table(crm_search_text(value), ' ') AS word,
         generate_series(1, greatest(length(word) - 1, 1)) AS position,
         LATERAL (VALUES (substr(word, position, 2))) AS grams (gram)
    WHERE word <> ''
$$;
"""
)

DROP_SQL_FUNCTIONS = """
DROP FUNCTION IF EXISTS crm_search_query_grams(text);
DROP FUNCTION IF EXISTS crm_search_grams(text[]);
DROP FUNCTION IF EXISTS crm_search_text(text);
"""


def search_grams_field(*expressions) -> models.GeneratedField:
    """The generated `search_grams` column over `expressions` (text columns or expressions)."""
    return models.GeneratedField(
        expression=Func(*expressions, function="crm_search_grams", output_field=GRAMS_FIELD),
        output_field=GRAMS_FIELD,
        db_persist=True,
    )


def search_index(name: str) -> GinIndex:
    return GinIndex(fields=["search_grams"], name=name)


def contains_fragment(expression, text: str) -> Func:
    """True where the normalised `expression` contains the normalised `text`."""
    return Func(
        Func(Func(expression, function="crm_search_text"), Func(Value(text), function="crm_search_text"),
             function="strpos"),
        Value(0),
        template="%(expressions)s",
        arg_joiner=" > ",
        output_field=models.BooleanField(),
    )  # fmt: skip


def grams_contain(text: str) -> Func:
    """`search_grams @> crm_search_query_grams(text)`: the condition the GIN index serves."""
    return Func(
        "search_grams",
        Cast(Func(Value(text), function="crm_search_query_grams"), GRAMS_FIELD),
        template="%(expressions)s",
        arg_joiner=" @> ",
        output_field=models.BooleanField(),
    )


def search_filter(queryset, text: str, *, fields, extra=(), complete=False):
    """The rows whose `fields` (names or expressions) contain `text`, found through the grams.

    `extra` holds more (grams text, condition) pairs, e.g. a phone's digits, whose matches
    count too; each is found through its own grams. `complete` says the fields are all the
    grams are made of: a fragment of one or two characters (one gram) then needs no recheck,
    so counting its matches reads the index alone."""
    text = " ".join(text.split())
    if not text:
        return queryset
    if complete and len(text) <= 2 and " " not in text:
        condition = Q(grams_contain(text))
    else:
        condition = Q(grams_contain(text)) & Q(_any(contains_fragment(field, text) for field in fields))
    for grams_text, extra_condition in extra:
        condition |= Q(grams_contain(grams_text)) & Q(extra_condition)
    return queryset.filter(condition)


def _any(conditions):
    combined = Q()
    for condition in conditions:
        combined |= Q(condition)
    return combined


# The planner's cost of reading a page while it plans a search. PostgreSQL's defaults (1 for a
# page read in sequence, 4 out of it) assume pages come from disk; a CRM's tables are read from
# memory, where a page costs about the same in either order and little next to the work on its
# rows (PostgreSQL's documentation suggests 0.1 for data held in memory). At the defaults the
# planner combined a search's candidates from the grams' index (2,600 for "wang") with every row
# the rep owns (a bitmap of 333,000 customers, 20 to 35 ms) to save heap reads that cost
# microseconds: a rep's search for "wang" took 41 ms to count and 58 ms for its page instead of
# 16 ms each. A user who owns few rows is still found through the owner's index.
SEARCH_PAGE_COST = "0.1"
SEARCH_PLANNER_SETTINGS = {"seq_page_cost": SEARCH_PAGE_COST, "random_page_cost": SEARCH_PAGE_COST}


@contextmanager
def planner_settings(using: str, settings: dict[str, str]):
    """Plan the queries inside with these settings, and put the previous values back after.

    Inside a caller's transaction (a service, a test) `SET LOCAL` would otherwise last until
    that transaction ends; one query sets them all and one puts them back."""
    pairs = list(settings.items())
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(["current_setting(%s), set_config(%s, %s, true)"] * len(pairs)),
            [part for name, value in pairs for part in (name, name, value)],
        )
        previous = list(zip(settings, cursor.fetchone()[0::2], strict=True))
        yield
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(previous)),
            [part for pair in previous for part in pair],
        )


def search_match_counts(querysets, cap: int) -> list[int]:
    """`capped_count` of each search's matches, planned for rows read from memory (see
    SEARCH_PAGE_COST): the grams' candidates are then read and filtered by visibility, not
    intersected with every row the user may see."""
    if not querysets:
        return []
    with planner_settings(querysets[0].db, SEARCH_PLANNER_SETTINGS):
        return [capped_count(queryset, cap) for queryset in querysets]


def few_matches_sorted(queryset) -> list:
    """The rows of a search known to match few rows (its capped count stayed under the cap),
    read from the search index's candidates and then sorted, with ordered index walks off and
    planned as `search_match_counts` plans.

    Ordered by an indexed column (the name), PostgreSQL would rather walk that index and
    filter each row, expecting the matches to be spread evenly along it; matches that sort
    together late (every name with the surname 王, every customer whose e-mail holds "wang")
    made that walk read 800,000 of a million rows for 25 of 2,600 matches (4 s instead of 20 ms).
    """
    with planner_settings(queryset.db, {**SEARCH_PLANNER_SETTINGS, "enable_indexscan": "off"}):
        return list(queryset)


def many_matches_newest(queryset) -> list:
    """The rows of a search known to match more rows than its cap, newest first (`queryset` is
    ordered by the primary key, descending), read by walking the primary key's index backwards
    and checking each row, with sorts and parallel workers off.

    The matches of a common fragment are spread along the primary key, so the walk reads a few
    hundred rows for a page. But the planner estimates a fragment of many pairs as matching one
    row ("maintenance": ten pairs, their frequencies multiplied), and then preferred to read
    every candidate from the grams' index, recheck them all and sort them (8,000 rows, 64 ms
    for 25, at 200,000 contracts); walked, the page costs 1.4 ms. Parallel workers only add
    their start (8 ms) to a walk that stops after a page.
    """
    with planner_settings(queryset.db, {"enable_sort": "off", "max_parallel_workers_per_gather": "0"}):
        return list(queryset)
