from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from crm.core.commands import CrmCommand
from crm.core.workflow import SYSTEM
from crm.insight.choices import ModelKind
from crm.insight.services import model_train


def _figure(value):
    return "–" if value is None else f"{value:.4f}"


class Command(CrmCommand):
    help = (
        "Train the insight models (customer segments, win probability, next-order likelihood), "
        "record each version with its figures against its baseline, and rewrite their scores."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind", choices=["all", *ModelKind.values], default="all", help="Which model (default: all)."
        )
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")

    def run(self, **options):
        kinds = list(ModelKind.values) if options["kind"] == "all" else [options["kind"]]
        failed = []
        for kind in kinds:
            version = model_train(actor=SYSTEM, kind=kind, seed=options["seed"])
            self.stdout.write(self._line(version))
            if not version.usable:
                failed.append(f"{kind}: {version.reason}")
        if failed:
            raise CommandError(_("Not trained: %(reasons)s") % {"reasons": " ".join(failed)})

    def _line(self, version):
        m = version.metrics
        base = m.get("baseline", {})
        head = f"{version} "
        if not version.usable:
            return head + _("not enough data: %(reason)s") % {"reason": version.reason}
        verdict = _("beats its baseline") if version.beats_baseline else _("does not beat its baseline")
        if version.kind == ModelKind.SEGMENTS:
            return head + _(
                "k=%(k)s, silhouette %(s)s (shuffled reference %(b)s), stability across seeds (ARI) %(ari)s, "
                "%(n)s customers: %(verdict)s."
            ) % {
                "k": m["k"],
                "s": _figure(m["silhouette"]),
                "b": _figure(base.get("silhouette")),
                "ari": _figure(m["stability_ari"]),
                "n": version.training_size,
                "verdict": verdict,
            }
        return head + _(
            "held-out Brier %(brier)s (baseline %(bb)s), log loss %(ll)s (baseline %(bl)s), AUC %(auc)s "
            "(baseline %(ba)s); %(train)s training rows, %(test)s held out: %(verdict)s."
        ) % {
            "brier": _figure(m["brier"]),
            "bb": _figure(base.get("brier")),
            "ll": _figure(m["log_loss"]),
            "bl": _figure(base.get("log_loss")),
            "auc": _figure(m.get("auc")),
            "ba": _figure(base.get("auc")),
            "train": version.training_size,
            "test": version.test_size,
            "verdict": verdict,
        }
