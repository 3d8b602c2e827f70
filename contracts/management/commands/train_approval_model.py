from django.utils.translation import gettext as _

from contracts.assistant import MIN_SAMPLES, approval_model_train
from crm.core.commands import CrmCommand


class Command(CrmCommand):
    help = (
        "Train the approval assistant (a decision tree) on the decided contracts and make it the "
        "active model. Refuses when there is too little history."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-samples",
            type=int,
            default=MIN_SAMPLES,
            help=f"Refuse with fewer decided contracts than this (default {MIN_SAMPLES}).",
        )
        parser.add_argument(
            "--max-depth", type=int, default=None, help="Depth of the tree (default: chosen by cross-validation)."
        )
        parser.add_argument(
            "--test-size",
            type=float,
            default=0.25,
            help="Share of the contracts held out to measure accuracy (default 0.25).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Random seed for the split and the tree.")

    def run(self, **options):
        # A DomainError ("too little history") becomes a one-line CommandError in CrmCommand.
        model = approval_model_train(
            min_samples=options["min_samples"],
            max_depth=options["max_depth"],
            test_size=options["test_size"],
            random_state=options["seed"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Approval model v%(version)s: trained on %(training)s contracts; held-out accuracy "
                    "%(accuracy)s on %(test)s contracts (majority baseline %(baseline)s)."
                )
                % {
                    "version": model.version,
                    "training": model.training_size,
                    "accuracy": f"{model.accuracy:.1%}",
                    "test": model.test_size,
                    "baseline": f"{model.baseline_accuracy:.1%}",
                }
            )
        )
        if model.accuracy <= model.baseline_accuracy:
            self.stderr.write(
                self.style.WARNING(
                    _(
                        "The model is no better than always answering the most common outcome; "
                        "its advice adds little until there is more history."
                    )
                )
            )
