"""How the history reads the contracts' audit events (see crm/core/history.py)."""

from django.utils.translation import gettext_lazy as _

from contracts.choices import SigningParty


def _signed(event):
    if (event.extra or {}).get("party") == SigningParty.COMPANY:
        return _("%(signer)s signed %(object)s for the company")
    return _("%(signer)s signed %(object)s for the customer")


SENTENCES = {
    "contract.created": _("%(actor)s drafted %(object)s"),
    "contract.updated": _("%(actor)s edited the terms of %(object)s (now version %(version)s)"),
    "contract.submitted": _("%(actor)s submitted %(object)s for approval"),
    "contract.level_approved": _("%(actor)s approved %(object)s as %(role)s; it waits for the next level"),
    "contract.approved": _("%(actor)s approved %(object)s as %(role)s; it is approved"),
    "contract.rejected": _("%(actor)s rejected %(object)s as %(role)s: %(comment)s"),
    "contract.reopened": _("%(actor)s reopened %(object)s as a draft"),
    "contract.cancelled": _("%(actor)s cancelled %(object)s"),
    "contract.signing_started": _("%(actor)s started the signing of %(object)s"),
    "contract.signing_link_sent": _("%(actor)s sent the signing link to %(email)s"),
    "contract.signing_link_revoked": _("%(actor)s revoked the signing link sent to %(email)s"),
    "contract.signing_link_not_delivered": _("The signing link to %(email)s could not be delivered: %(error)s"),
    "contract.signed": _signed,
    "contract.activated": _("%(object)s is signed by both parties and active"),
    "contract.completed": _("%(actor)s marked %(object)s completed"),
    "contract.terminated": _("%(actor)s terminated %(object)s: %(reason)s"),
    "contract.expired": _("%(object)s expired at its end date"),
    "contracttemplate.created": _("%(actor)s created the template %(object)s"),
    "contracttemplate.updated": _("%(actor)s changed the template %(object)s"),
    "approvalrule.created": _("%(actor)s created the approval rule %(object)s"),
    "approvalrule.updated": _("%(actor)s changed the approval rule %(object)s"),
    "signingkey.created": _("%(actor)s created the signing key %(object)s"),
    "signingkey.rotated": _("%(actor)s rotated the signing key to %(object)s"),
    "signingkey.retired": _("%(actor)s retired the signing key %(object)s"),
    "signingkey.revoked": _("%(actor)s revoked the signing key %(object)s: %(reason)s"),
    "approval_model.trained": _("%(actor)s trained %(object)s"),
}
