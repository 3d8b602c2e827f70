"""`field__any=<array subquery>`: `field = ANY(ARRAY(...))`.

PostgreSQL treats it as an index condition that can be combined with others in a
BitmapOr, where `IN (subquery)` under an OR becomes a filter checked row by row."""

from django.db.models import Field, ForeignKey, Lookup


@Field.register_lookup
@ForeignKey.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
