"""Pages of the UI shell: home, health, the login lockout answer, API tokens, section placeholders.

Every page is ``login_required`` unless the permission matrix (docs/permissions.md) lists it as
public, answers only the methods the matrix lists (405 otherwise), and escapes what it shows.

Must not import any q2c app; only ``q2c.core`` and ``q2c.platform``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.core.errors import PermissionDenied, ValidationError
from q2c.platform import tokens, ui
from q2c.platform.roles import roles_of


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "platform/home.html")


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer once a username has failed to log in too often (AXES_LOCKOUT_CALLABLE).

    The login page again, with the reason, and 429 Too Many Requests.
    """
    hours = float(getattr(settings, "AXES_COOLOFF_TIME", 0) or 0)
    minutes = round(hours * 60)
    wait = f" Try again in {minutes} minutes." if minutes else ""
    message = f"Too many failed login attempts: this account is locked for now.{wait}"
    return render(request, "registration/login.html", {"locked_out": message, "next": ""}, status=429)


@require_http_methods(["GET", "POST"])
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; POST creates one and shows its key once."""
    created = None
    error = ""
    status = 200
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, raw = tokens.create_token(request.user, name)
        except ValidationError as exc:
            error = exc.message
            status = 422
        else:
            created = {"token": token, "key": raw}
            name = ""
            status = 201
    response = render(
        request,
        "platform/tokens.html",
        {"tokens": tokens.tokens_of(request.user), "created": created, "error": error, "name": name},
        status=status,
    )
    # The page may show a secret: keep it out of every cache.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = tokens.revoke_token(request.user, token_id)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("platform:tokens")


@require_GET
@login_required
def section(request: HttpRequest, slug: str) -> HttpResponse:
    """Placeholder page of a part of q2c that is not built yet."""
    found = ui.SECTIONS.get(slug)
    if found is None:
        raise Http404("no such section")
    if not ui.may_see(roles_of(request.user), found.roles):
        raise PermissionDenied("this section is not open to your roles", code="auth.forbidden")
    return render(request, "platform/section.html", {"section": found})
