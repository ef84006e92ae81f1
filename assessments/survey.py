"""The respondent's side: redeem a link, walk the survey section by section, autosave,
review and submit.

Respondents have no account. Redeeming a link puts the respondent's id in the session and
redirects to a URL without the token; every later page checks the session
(`access.get_respondent_for_session`), so a forged respondent id finds nothing.
Every page works without JavaScript (plain form posts); with htmx each answer saves as it
changes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from assessments import ratelimit, services
from assessments.access import (
    get_respondent_for_session,
    remember_respondent,
    session_has_respondent,
)
from assessments.forms import JoinForm
from assessments.models import Answer, Invitation, Respondent
from assessments.services import (
    FACTS_SECTION,
    PageInputError,
    SurveyClosedError,
    SurveyInputError,
)
from scoring.rubric import Question, Rubric

SESSION_JOIN = "join_invitation"
SESSION_OPEN = "open_link:{}"


def rate_limited(request: HttpRequest) -> bool:
    """Failed redemptions per client address in a one-minute window: guessing tokens is slow
    and loud, while people reopening their own valid link are never limited. Survey links and
    share links share this budget, so alternating between them buys a guesser nothing."""
    return ratelimit.over(
        f"redeem:{ratelimit.client_ip(request)}", settings.TOKEN_RATE_LIMIT_PER_MINUTE, 60
    )


def count_failure(request: HttpRequest) -> None:
    ratelimit.hit(f"redeem:{ratelimit.client_ip(request)}", 60)


def _too_many_joins(request: HttpRequest, invitation: Invitation) -> bool:
    """New respondents through one open link, per client address (10 minutes) and in all
    (per minute): a script cannot flood an assessment with made-up answers."""
    per_address = f"join:{invitation.pk}:{ratelimit.client_ip(request)}"
    return ratelimit.over(per_address, settings.OPEN_LINK_JOINS_PER_ADDRESS, 600) or ratelimit.over(
        f"join:{invitation.pk}", settings.OPEN_LINK_JOINS_PER_MINUTE, 60
    )


def _count_join(request: HttpRequest, invitation: Invitation) -> None:
    ratelimit.hit(f"join:{invitation.pk}:{ratelimit.client_ip(request)}", 600)
    ratelimit.hit(f"join:{invitation.pk}", 60)


def _link_unusable(request: HttpRequest, status: int = 404) -> HttpResponse:
    response = render(request, "survey/link_unusable.html", status=status)
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    """Responses to URLs that carry a token: never cached, never sent on as a referrer."""
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


def redeem(request: HttpRequest, token: str) -> HttpResponse:
    if rate_limited(request):
        response = render(request, "survey/rate_limited.html", status=429)
        response["Retry-After"] = "60"
        return _private(response)
    invitation = services.invitation_redeem(token=token)
    if invitation is None:
        count_failure(request)
        return _link_unusable(request)
    # A fresh session key on redeem: a session planted before the link was opened learns nothing.
    request.session.cycle_key()
    if invitation.kind == Invitation.Kind.PERSONAL:
        respondent = services.respondent_for_personal_link(invitation=invitation)
        remember_respondent(request, respondent)
        response = redirect("survey:home", respondent_id=respondent.pk)
    else:
        existing = request.session.get(SESSION_OPEN.format(invitation.pk))
        if existing and session_has_respondent(request, existing):
            response = redirect("survey:home", respondent_id=existing)
        else:
            # The token's hash, not only the link's id: reissuing the link closes this too.
            request.session[SESSION_JOIN] = [str(invitation.pk), invitation.token_hash]
            response = redirect("survey:join")
    return _private(response)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    joining = request.session.get(SESSION_JOIN)
    invitation = None
    if isinstance(joining, list) and len(joining) == 2:
        invitation = (
            Invitation.objects.usable()
            .select_related("assessment")
            .filter(pk=joining[0], token_hash=joining[1])
            .first()
        )
    if invitation is None:
        return _link_unusable(request)
    assessment = invitation.assessment
    if invitation.is_full():
        return render(request, "survey/link_full.html", {"assessment": assessment}, status=409)
    form = JoinForm(request.POST or None, roles=assessment.rubric.audiences)
    if request.method == "POST" and form.is_valid():
        if _too_many_joins(request, invitation):
            response = render(request, "survey/rate_limited.html", {"joining": True}, status=429)
            response["Retry-After"] = "600"
            return response
        _count_join(request, invitation)
        try:
            respondent = services.respondent_join(
                invitation=invitation,
                role=form.cleaned_data["role"],
                name=form.cleaned_data["name"],
            )
        except services.LinkFullError:
            return render(request, "survey/link_full.html", {"assessment": assessment}, status=409)
        except SurveyClosedError as exc:
            return render(request, "survey/closed.html", {"message": str(exc)}, status=409)
        remember_respondent(request, respondent)
        request.session[SESSION_OPEN.format(invitation.pk)] = str(respondent.pk)
        request.session.pop(SESSION_JOIN, None)
        return redirect("survey:home", respondent_id=respondent.pk)
    return render(
        request,
        "survey/join.html",
        {"form": form, "assessment": assessment},
        status=400 if form.is_bound else 200,
    )


def home(request: HttpRequest, respondent_id: str) -> HttpResponse:
    respondent = get_respondent_for_session(request, respondent_id)
    if respondent.is_submitted:
        return render(request, "survey/done.html", {"respondent": respondent})
    if not respondent.assessment.is_open:
        message = "This assessment is closed and no longer takes answers."
        return render(request, "survey/closed.html", {"message": message}, status=409)
    sections = services.respondent_progress(respondent)
    next_section = next((s for s in sections if not s.complete), None)
    return render(
        request,
        "survey/home.html",
        {
            "respondent": respondent,
            "assessment": respondent.assessment,
            "sections": sections,
            "next_section": next_section,
        },
    )


@require_http_methods(["GET", "POST"])
def section(request: HttpRequest, respondent_id: str, section_id: str) -> HttpResponse:
    respondent = get_respondent_for_session(request, respondent_id)
    if respondent.is_submitted:
        return redirect("survey:home", respondent_id=respondent.pk)
    items = _section_items(respondent, section_id)
    if items is None:
        raise Http404
    if request.method == "GET":
        return _render_section(request, respondent, section_id)
    posted = {
        item_id: (request.POST.get(f"q-{item_id}", ""), request.POST.get(f"c-{item_id}", ""))
        for item_id in items
        if f"q-{item_id}" in request.POST or f"c-{item_id}" in request.POST
    }
    try:
        seq = services.parse_seq(request.POST.get("seq"))
        conflicts = services.answers_save_page(respondent=respondent, posted=posted, seq=seq)
    except SurveyClosedError as exc:
        return render(request, "survey/closed.html", {"message": str(exc)}, status=409)
    except PageInputError as exc:
        # Show the page as posted, each problem beside its field: nothing typed is lost.
        return _render_section(
            request, respondent, section_id, error=str(exc), posted=posted, errors=exc.errors
        )
    except SurveyInputError as exc:
        return _render_section(request, respondent, section_id, error=str(exc), posted=posted)
    if conflicts:
        count = len(conflicts)
        notice = (
            f"{count} answer{'s' if count > 1 else ''} on this page changed in another window "
            "after this page was opened. The newer answer is kept and shown below: check it, "
            "then continue."
        )
        return _render_section(
            request, respondent, section_id, notice=notice, errors=dict.fromkeys(conflicts, "")
        )
    return redirect(_after(respondent, section_id))


def _section_items(respondent: Respondent, section_id: str) -> list[str] | None:
    rubric = respondent.assessment.rubric
    if section_id == FACTS_SECTION:
        facts = services.facts_for(respondent)
        return [f.id for f in facts] if facts else None
    try:
        dimension = rubric.dimension(section_id)
    except KeyError:
        return None
    ids = [
        q.id for c in dimension.capabilities for q in c.questions if respondent.role in q.audience
    ]
    return ids or None


def _after(respondent: Respondent, section_id: str) -> str:
    ids = [s.id for s in services.respondent_progress(respondent)]
    position = ids.index(section_id)
    if position + 1 < len(ids):
        return reverse("survey:section", args=[respondent.pk, ids[position + 1]])
    return reverse("survey:review", args=[respondent.pk])


def _render_section(
    request: HttpRequest,
    respondent: Respondent,
    section_id: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    posted: dict[str, tuple[str, str]] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    """The page, from the stored answers or, after a refused post, from what was posted."""
    rubric = respondent.assessment.rubric
    answers = {a.question_id: a for a in respondent.answers.all()}
    posted = posted or {}
    errors = errors or {}

    def shown(item_id: str) -> tuple[str, str]:
        if item_id in posted:
            return posted[item_id]
        answer = answers.get(item_id)
        return (answer.form_value, answer.comment) if answer else ("", "")

    sections = services.respondent_progress(respondent, answers)
    ids = [s.id for s in sections]
    position = ids.index(section_id)
    context: dict[str, object] = {
        "respondent": respondent,
        "assessment": respondent.assessment,
        "rubric": rubric,
        "sections": sections,
        "current": sections[position],
        "previous": sections[position - 1] if position > 0 else None,
        "is_last": position + 1 == len(ids),
        "error": error,
        "notice": notice,
        # When this page was rendered: a post from it never overwrites a newer answer.
        "seq": services.parse_seq(None),
    }
    if section_id == FACTS_SECTION:
        context["facts"] = [
            {
                "fact": f,
                "dom": dom_id(f.id),
                "answer": answers.get(f.id),
                "value": shown(f.id)[0],
                "error": errors.get(f.id),
                "flagged": f.id in errors,
            }
            for f in services.facts_for(respondent)
        ]
        template = "survey/facts.html"
    else:
        dimension = rubric.dimension(section_id)
        context["dimension"] = dimension
        context["comment_max"] = settings.ANSWER_COMMENT_MAX_LENGTH
        context["capabilities"] = [
            (c, items)
            for c in dimension.capabilities
            if (
                items := [
                    _item(
                        rubric, q, answers.get(q.id), shown(q.id), q.id in errors, errors.get(q.id)
                    )
                    for q in c.questions
                    if respondent.role in q.audience
                ]
            )
        ]
        template = "survey/section.html"
    status = 400 if error else 409 if notice else 200
    return render(request, template, context, status=status)


def dom_id(item_id: str) -> str:
    """Rubric ids contain dots, which CSS selectors would read as classes."""
    return item_id.replace(".", "_")


def _item(
    rubric: Rubric,
    question: Question,
    answer: Answer | None,
    shown: tuple[str, str],
    flagged: bool,
    error: str | None,
) -> dict[str, object]:
    return {
        "question": question,
        "dom": dom_id(question.id),
        "answer": answer,
        "value": shown[0],
        "comment": shown[1],
        "flagged": flagged,
        "error": error,
        "options": [
            (str(level), rubric.level_names[level], text) for level, text in question.levels.items()
        ],
    }


@require_POST
def answer(request: HttpRequest, respondent_id: str) -> HttpResponse:
    """Autosave one answer (htmx). Returns the "saved" state and the refreshed progress bar."""
    respondent = get_respondent_for_session(request, respondent_id)
    question_id = request.POST.get("question", "")
    try:
        seq = services.parse_seq(request.POST.get("seq"))
        outcome = services.answer_save(
            respondent=respondent,
            question_id=question_id,
            value=request.POST.get(f"q-{question_id}", ""),
            comment=request.POST.get(f"c-{question_id}", ""),
            seq=seq,
        )
    except SurveyClosedError as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    except SurveyInputError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    sections = services.respondent_progress(respondent, outcome.answers)
    section_id = _section_of(respondent, question_id)
    response = render(
        request,
        "survey/answer_saved.html",
        {
            "answer": outcome.answer,
            "stale": outcome.stale,
            "dom": dom_id(question_id),
            "section": next((s for s in sections if s.id == section_id), None),
            "respondent": respondent,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _section_of(respondent: Respondent, question_id: str) -> str:
    rubric = respondent.assessment.rubric
    try:
        return rubric.question(question_id).dimension_id
    except KeyError:
        return FACTS_SECTION


def review(request: HttpRequest, respondent_id: str) -> HttpResponse:
    respondent = get_respondent_for_session(request, respondent_id)
    if respondent.is_submitted:
        return redirect("survey:home", respondent_id=respondent.pk)
    answers = {a.question_id: a for a in respondent.answers.all()}
    sections = services.respondent_progress(respondent, answers)
    unanswered = [
        (q, dom_id(q.id))
        for q in services.questions_for(respondent)
        if q.id not in answers or answers[q.id].choice == Answer.Choice.NONE
    ]
    return render(
        request,
        "survey/review.html",
        {
            "respondent": respondent,
            "assessment": respondent.assessment,
            "sections": sections,
            "unanswered": unanswered,
            "n_answered": sum(s.answered for s in sections),
        },
    )


@require_POST
def submit(request: HttpRequest, respondent_id: str) -> HttpResponse:
    respondent = get_respondent_for_session(request, respondent_id)
    try:
        services.respondent_submit(respondent=respondent, now=timezone.now())
    except SurveyClosedError as exc:
        return render(request, "survey/closed.html", {"message": str(exc)}, status=409)
    except SurveyInputError as exc:
        messages.error(request, str(exc))
        return redirect("survey:review", respondent_id=respondent.pk)
    # Every submit, first or repeated, lands on the same "thank you" page.
    return redirect("survey:home", respondent_id=respondent.pk)
