"""What the test authorization server adds to django-oauth-toolkit, for tests only: a user who
is always signed in and consents at once, counters of what clients asked for, and control
endpoints that create and delete applications ("the provider forgot the registration").
"""

import json
import threading
from collections import Counter

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

Application = get_application_model()

TEST_USER = "alice"

_lock = threading.Lock()
_counts: Counter = Counter()
_by_grant: Counter = Counter()
_errors: Counter = Counter()
# client_ids handed out by dynamic registration, in order.
_registered: list = []


@receiver(pre_save, sender=Application)
def _consent_at_once(sender, instance, **kwargs):
    """Every application, registered dynamically or not, skips the consent page."""
    instance.skip_authorization = True


class TestUserMiddleware:
    """The test user is signed in for every request, so no login page stops a headless client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated:
            request.user, _ = get_user_model().objects.get_or_create(username=TEST_USER)
        return self.get_response(request)


class CountingMiddleware:
    """Counts token-endpoint requests (by grant type and by error), registrations,
    introspections and revocations."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        _ = request.body  # read once, so DOT can still read it after request.POST
        grant = request.POST.get("grant_type", "") if path == "/o/token/" else ""
        response = self.get_response(request)
        if request.method != "POST":
            return response
        with _lock:
            if path == "/o/token/":
                _counts["tokenRequests"] += 1
                _by_grant[grant or "(none)"] += 1
                if response.status_code >= 400:
                    _errors[_error_of(response)] += 1
            elif path == "/o/register/":
                _counts["registrationRequests"] += 1
                if response.status_code == 201:
                    _counts["registrations"] += 1
                    _registered.append(json.loads(response.content)["client_id"])
            elif path == "/o/introspect/":
                _counts["introspections"] += 1
            elif path == "/o/revoke_token/":
                _counts["revocations"] += 1
                if response.status_code >= 400:
                    _counts["revocationErrors"] += 1
        return response


def _error_of(response) -> str:
    try:
        return json.loads(response.content).get("error", "unknown")
    except ValueError:
        return "unknown"


def stats(request):
    """`GET /__test/stats`: the counters since start (or the last reset)."""
    with _lock:
        return JsonResponse(
            {
                "tokenRequests": _counts["tokenRequests"],
                "tokenRequestsByGrant": dict(_by_grant),
                "tokenErrors": dict(_errors),
                "registrationRequests": _counts["registrationRequests"],
                "registrations": _counts["registrations"],
                "registeredClientIds": list(_registered),
                "introspections": _counts["introspections"],
                "revocations": _counts["revocations"],
                "revocationErrors": _counts["revocationErrors"],
            }
        )


@csrf_exempt
def reset(request):
    """`POST /__test/reset`: zeroes the counters (the registered ids stay listed)."""
    if request.method != "POST":
        return JsonResponse({"error": "use POST"}, status=405)
    with _lock:
        _counts.clear()
        _by_grant.clear()
        _errors.clear()
    return JsonResponse({"ok": True})


def clients(request):
    """`GET /__test/clients`: every application the server knows."""
    return JsonResponse(
        {
            "clients": [
                {
                    "client_id": app.client_id,
                    "name": app.name,
                    "client_type": app.client_type,
                    "grant_type": app.authorization_grant_type,
                    "redirect_uris": app.redirect_uris.split(),
                }
                for app in Application.objects.order_by("id")
            ]
        }
    )


@csrf_exempt
def create_client_credentials(request):
    """`POST /__test/clients/client-credentials`: a confidential client-credentials
    application; answers its `client_id` and `client_secret` (shown once, stored hashed)."""
    if request.method != "POST":
        return JsonResponse({"error": "use POST"}, status=405)
    secret = generate_client_secret()
    app = Application.objects.create(
        name=request.GET.get("name", "agent"),
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    return JsonResponse({"client_id": app.client_id, "client_secret": secret}, status=201)


@csrf_exempt
def create_public_client(request):
    """`POST /__test/clients/public?redirect_uri=…`: a public authorization-code application
    (a client id published for native apps, no registration endpoint needed); loopback
    redirect URIs match on any port (RFC 8252). Answers its `client_id`."""
    if request.method != "POST":
        return JsonResponse({"error": "use POST"}, status=405)
    redirect_uri = request.GET.get("redirect_uri", "http://127.0.0.1/callback")
    app = Application.objects.create(
        name=request.GET.get("name", "native"),
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
    )
    return JsonResponse({"client_id": app.client_id}, status=201)


@csrf_exempt
def delete_client(request, client_id):
    """`POST /__test/clients/{client_id}/delete`: the provider forgets the application (and,
    as DOT does, its tokens): a refresh then answers `invalid_client`."""
    if request.method != "POST":
        return JsonResponse({"error": "use POST"}, status=405)
    deleted, _ = Application.objects.filter(client_id=client_id).delete()
    if not deleted:
        return JsonResponse({"error": "no such client"}, status=404)
    return JsonResponse({"deleted": client_id})
