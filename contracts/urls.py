from django.urls import path

from contracts import views
from contracts.workflow import WORKFLOW

app_name = "contracts"

urlpatterns = [
    path("", views.ContractListView.as_view(), name="contract_list"),
    path("approvals/", views.ApprovalInboxView.as_view(), name="approval_inbox"),
    path("new/", views.ContractCreateView.as_view(), name="contract_create"),
    path("<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    path("<int:pk>/edit/", views.ContractUpdateView.as_view(), name="contract_update"),
    path("<int:pk>/diff/", views.ContractDiffView.as_view(), name="contract_diff"),
    path("<int:pk>/similar/", views.ContractSimilarView.as_view(), name="contract_similar"),
    *WORKFLOW.urls(),  # one page per step of the table: submit, approve, reject, cancel, sign...
]

urlpatterns += [
    path(
        "<int:pk>/signing-link/<int:link_pk>/revoke/",
        views.SigningLinkRevokeView.as_view(),
        name="signing_link_revoke",
    ),
    path("<int:pk>/evidence.zip", views.ContractEvidenceView.as_view(), name="contract_evidence"),
    path("<int:pk>/certificate/", views.ContractCertificateView.as_view(), name="contract_certificate"),
    path("sign/", views.CustomerSignView.as_view(), name="customer_sign_page"),
    path("sign/<str:token>/", views.CustomerSignStartView.as_view(), name="customer_sign"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
]
