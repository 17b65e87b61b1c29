"""The network's discussion list: threads by theme and level, a thread's messages with quotes
and live updates, replies (htmx or a plain form), moderation by the animation team,
subscriptions to threads and themes, and the unsubscribe links of the e-mails.

Every page is the network space's (members, its animation team, admins), except the
unsubscribe link's page, where the signed link is the credential: it works signed out.
"""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from extensions import csrf
from models import MandateLevel, NetworkTheme, NotifyMode, as_id, db
from services import discussion as service
from services.errors import Invalid
from services.network import LEVEL_TITLES
from services.network_access import is_network_member, is_network_team, require_network_space
from services.themes import MAX_LENGTH as THEME_MAX_LENGTH
from services.themes import all_themes

from . import sign_in_first
from .forms import Form, form_invalid
from .htmx import is_htmx, vary_on_htmx

bp = Blueprint("discussion", __name__, url_prefix="/reseau/discussions")

THREADS_PER_PAGE = 20

LEVEL_LABELS = LEVEL_TITLES

NOTIFY_MODE_LABELS = {
    NotifyMode.immediate: _l("Un e-mail à chaque nouveau message"),
    NotifyMode.daily: _l("Un résumé par jour"),
}

# Reached from an e-mail, signed out: the signed token is the credential.
OPEN_ENDPOINTS = frozenset({"discussion.unsubscribe_link"})


@bp.before_request
def _network_space_only():
    """Anonymous: sign in first; signed in outside the network: 403 on every page."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if (response := sign_in_first()) is not None:
        return response
    require_network_space(current_user)
    return None


@bp.context_processor
def _labels():
    return {"level_labels": LEVEL_LABELS, "notify_mode_labels": NOTIFY_MODE_LABELS}


# Forms ---------------------------------------------------------------------------------------


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _level_choices(empty_label) -> list[SelectChoice]:
    return [SelectChoice("", empty_label)] + [
        SelectChoice(level.value, label) for level, label in LEVEL_LABELS.items()
    ]


class ThreadForm(Form):
    title = StringField(
        _l("Titre"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Donnez un titre à la discussion.")),
            Length(
                min=service.TITLE_MIN,
                max=service.TITLE_MAX,
                message=_l("Entre %(min)d et %(max)d caractères."),
            ),
        ],
    )
    theme = StringField(
        _l("Thème"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Choisissez un thème, ou écrivez-en un nouveau.")),
            Length(max=THEME_MAX_LENGTH, message=_l("%(max)d caractères au plus.")),
        ],
    )
    level = SelectField(
        _l("Niveau de mandat (facultatif)"),
        choices=_level_choices(_l("Aucun niveau en particulier")),
        validators=[Optional()],
    )
    body = TextAreaField(
        _l("Premier message"),
        validators=[
            InputRequired(_l("Écrivez votre message avant de l'envoyer.")),
            Length(max=service.BODY_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )


class ReplyForm(Form):
    body = TextAreaField(
        _l("Votre réponse"),
        id="reply-body",
        validators=[
            InputRequired(_l("Écrivez votre message avant de l'envoyer.")),
            Length(max=service.BODY_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )
    quoted_post_id = HiddenField()


class HideForm(Form):
    reason = TextAreaField(
        _l("Raison (lue par l'équipe d'animation seulement)"),
        filters=[_strip],
        validators=[
            InputRequired(_l("Indiquez pourquoi ce message est masqué.")),
            Length(max=service.REASON_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )


class NotifyModeForm(Form):
    mode = RadioField(
        _l("Recevoir les nouveaux messages"),
        choices=[SelectChoice(mode.value, label) for mode, label in NOTIFY_MODE_LABELS.items()],
        validators=[InputRequired(_l("Choisissez comment recevoir les nouveaux messages."))],
    )


def _back(default: str) -> str:
    """The page a subscription button came from (`next`), when it is a path of this site."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not parts.scheme
        and not parts.netloc
    ):
        return target
    return default


# The list ------------------------------------------------------------------------------------


def _list_filters() -> tuple[service.ThreadFilters, NetworkTheme | None, int]:
    """Filters from the query string; anything malformed or unknown is ignored."""
    args = request.args
    theme_id = as_id(args.get("theme"))
    theme = db.session.get(NetworkTheme, theme_id) if theme_id is not None else None
    level = args.get("niveau", "")
    raw_page = args.get("page", "1")
    page = int(raw_page) if raw_page.isdecimal() and 0 < int(raw_page) < 100000 else 1
    filters = service.ThreadFilters(
        theme_id=theme.id if theme is not None else None,
        level=MandateLevel(level) if level in MandateLevel.__members__ else None,
    )
    return filters, theme, page


@bp.get("/", endpoint="index")
def index():
    filters, theme, page = _list_filters()
    rows, total = service.list_threads(current_user, filters, page, THREADS_PER_PAGE)
    context = dict(
        threads=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // THREADS_PER_PAGE)),
        filters=filters,
        theme=theme,
        follows_theme=theme is not None and service.follows_theme(current_user, theme.id),
        themes=all_themes(),
    )
    if is_htmx() and request.headers.get("HX-Target") == "thread-results":
        return vary_on_htmx(make_response(render_template("discussion/_results.html", **context)))
    return vary_on_htmx(make_response(render_template("discussion/index.html", **context)))


@bp.route("/nouvelle", methods=["GET", "POST"], endpoint="new_thread")
def new_thread():
    form = ThreadForm()
    if request.method == "GET":
        theme_id = as_id(request.args.get("theme"))
        theme = db.session.get(NetworkTheme, theme_id) if theme_id is not None else None
        if theme is not None:
            form.theme.data = theme.name
    else:
        try:
            if not form.validate_on_submit():
                raise form_invalid(form)
            level = form.level.data
            posted = service.create_thread(
                current_user,
                form.title.data,
                form.theme.data,
                MandateLevel(level) if level else None,
                form.body.data,
            )
        except Invalid as error:
            return make_response(
                render_template(
                    "discussion/new.html", form=form, themes=all_themes(), error=error.message
                ),
                error.status,
            )
        flash(
            _("La discussion est ouverte. Vous la suivez : les réponses vous seront envoyées."),
            "success",
        )
        return redirect(url_for(".thread", thread_id=posted.thread_id), 303)
    return render_template("discussion/new.html", form=form, themes=all_themes(), error=None)


# A thread ------------------------------------------------------------------------------------


def _posts_context(thread_id: int, state: str | None = None) -> dict:
    # The state first: a message written between the two reads is then shown with an older
    # state, and the next poll refreshes for nothing; the other way round, the page would
    # miss it until the thread changes again.
    if state is None:
        state = service.thread_state(current_user, thread_id)
    return {
        "posts": service.posts_for(current_user, thread_id),
        "state": state,
        "thread_id": thread_id,
        "is_team": is_network_team(current_user),
    }


def _reply_context(thread_id: int, form: ReplyForm | None = None, error=None, notice=None):
    if form is None:
        quote = service.quotable(current_user, thread_id, as_id(request.args.get("citer")))
        form = ReplyForm(formdata=None, quoted_post_id=quote.post_id if quote else "")
    else:
        quote = service.quotable(current_user, thread_id, as_id(form.quoted_post_id.data))
        if quote is None:  # hidden since, or never quotable: the form comes back without it
            form.quoted_post_id.data = ""
    return {
        "thread_id": thread_id,
        "reply_form": form,
        "quote": quote,
        "reply_error": error,
        "reply_notice": notice,
    }


def _thread_page(thread_id: int, form: ReplyForm | None = None, error=None, status=200):
    view = service.thread_for(current_user, thread_id)
    context = {
        "thread": view,
        "subscription": service.subscription_state(current_user, view.id, view.theme_id),
        **_posts_context(view.id),
        **_reply_context(view.id, form, error),
    }
    return vary_on_htmx(make_response(render_template("discussion/thread.html", **context), status))


@bp.get("/<int:thread_id>", endpoint="thread")
def thread(thread_id: int):
    return _thread_page(thread_id)


@bp.get("/<int:thread_id>/etat", endpoint="poll")
def poll(thread_id: int):
    """The thread's live refresh: 204 while the state the page shows (`v`) is current, else
    the message list, with the number of new messages announced."""
    known = request.args.get("v", "")[:64]
    state = service.thread_state(current_user, thread_id)
    if not is_htmx():
        return redirect(url_for(".thread", thread_id=thread_id))
    if state == known:
        response = make_response("", 204)
    else:
        context = _posts_context(thread_id, state)
        since = service.last_post_id_of(known)
        context["new_count"] = sum(
            1
            for post in context["posts"]
            if post.id > since and post.author_id != current_user.id and post.hidden_at is None
        )
        response = make_response(render_template("discussion/_poll_response.html", **context))
    response.headers["Cache-Control"] = "no-cache"
    return vary_on_htmx(response)


@bp.post("/<int:thread_id>/repondre", endpoint="reply")
def reply(thread_id: int):
    form = ReplyForm()
    try:
        if not form.validate_on_submit():
            raise form_invalid(form)
        raw_quote = form.quoted_post_id.data
        posted = service.post_reply(
            current_user, thread_id, form.body.data, as_id(raw_quote) if raw_quote else None
        )
    except Invalid as error:
        if is_htmx():
            service.thread_for(current_user, thread_id)  # 404 for a thread they cannot see
            context = _reply_context(thread_id, form, error.message)
            response = make_response(
                render_template("discussion/_reply_form.html", **context), error.status
            )
            response.headers["HX-Retarget"] = "#repondre"
            response.headers["HX-Reswap"] = "outerHTML"
            return vary_on_htmx(response)
        return _thread_page(thread_id, form, error.message, error.status)
    if is_htmx():
        fresh = ReplyForm(formdata=None, quoted_post_id="")
        view = service.thread_for(current_user, thread_id)
        context = {
            "thread": view,
            "subscription": service.subscription_state(current_user, view.id, view.theme_id),
            **_posts_context(thread_id),
            **_reply_context(thread_id, fresh, notice=_("Votre message est publié.")),
        }
        return vary_on_htmx(
            make_response(render_template("discussion/_reply_response.html", **context))
        )
    flash(_("Votre message est publié."), "success")
    return redirect(
        url_for(".thread", thread_id=thread_id, _anchor=f"message-{posted.post_id}"), 303
    )


# Moderation ----------------------------------------------------------------------------------


@bp.route("/messages/<int:post_id>/masquer", methods=["GET", "POST"], endpoint="hide_post")
def hide_post(post_id: int):
    post, view = service.post_for_moderation(current_user, post_id)
    form = HideForm()
    status = 200
    error = None
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise form_invalid(form)
            service.hide_post(current_user, post_id, form.reason.data)
        except Invalid as exc:
            error, status = exc.message, exc.status
        else:
            flash(_("Le message est masqué : les membres ne le voient plus."), "success")
            return redirect(
                url_for(".thread", thread_id=view.id, _anchor=f"message-{post_id}"), 303
            )
    return make_response(
        render_template("discussion/hide.html", post=post, thread=view, form=form, error=error),
        status,
    )


@bp.post("/messages/<int:post_id>/afficher", endpoint="unhide_post")
def unhide_post(post_id: int):
    thread_id = service.unhide_post(current_user, post_id)
    flash(_("Le message est de nouveau visible des membres."), "success")
    return redirect(url_for(".thread", thread_id=thread_id, _anchor=f"message-{post_id}"), 303)


# Subscriptions -------------------------------------------------------------------------------


@bp.post("/<int:thread_id>/abonnement", endpoint="subscribe_thread")
def subscribe_thread(thread_id: int):
    service.subscribe_thread(current_user, thread_id)
    flash(_("Vous suivez cette discussion : ses nouveaux messages vous seront envoyés."), "success")
    return redirect(_back(url_for(".thread", thread_id=thread_id)), 303)


@bp.post("/<int:thread_id>/desabonnement", endpoint="unsubscribe_thread")
def unsubscribe_thread(thread_id: int):
    service.unsubscribe_thread(current_user, thread_id)
    flash(_("Vous ne suivez plus cette discussion."), "success")
    return redirect(_back(url_for(".thread", thread_id=thread_id)), 303)


@bp.post("/themes/<int:theme_id>/abonnement", endpoint="subscribe_theme")
def subscribe_theme(theme_id: int):
    service.subscribe_theme(current_user, theme_id)
    flash(
        _("Vous suivez ce thème : les messages de ses discussions vous seront envoyés."), "success"
    )
    return redirect(_back(url_for(".index", theme=theme_id)), 303)


@bp.post("/themes/<int:theme_id>/desabonnement", endpoint="unsubscribe_theme")
def unsubscribe_theme(theme_id: int):
    service.unsubscribe_theme(current_user, theme_id)
    flash(_("Vous ne suivez plus ce thème."), "success")
    return redirect(_back(url_for(".index", theme=theme_id)), 303)


def _subscriptions_page(form: NotifyModeForm | None = None, error=None, status=200):
    subscriptions = service.subscriptions_of(current_user)
    if form is None and subscriptions.notify_mode is not None:
        form = NotifyModeForm(formdata=None, mode=subscriptions.notify_mode.value)
    return make_response(
        render_template(
            "discussion/subscriptions.html",
            subscriptions=subscriptions,
            mode_form=form if is_network_member(current_user) else None,
            error=error,
            themes=all_themes(),
        ),
        status,
    )


@bp.get("/abonnements", endpoint="subscriptions")
def subscriptions():
    return _subscriptions_page()


@bp.post("/abonnements/mode", endpoint="notify_mode")
def notify_mode():
    form = NotifyModeForm()
    try:
        if not form.validate_on_submit():
            raise form_invalid(form)
        changed = service.set_notify_mode(current_user, NotifyMode(form.mode.data))
    except Invalid as error:
        return _subscriptions_page(form, error.message, error.status)
    if changed:
        flash(
            _("Vous recevrez un résumé par jour.")
            if form.mode.data == NotifyMode.daily
            else _("Vous recevrez un e-mail à chaque nouveau message."),
            "success",
        )
    return redirect(url_for(".subscriptions"), 303)


@bp.route("/desabonnement/<token>", methods=["GET", "POST"], endpoint="unsubscribe_link")
@csrf.exempt
def unsubscribe_link(token: str):
    """The e-mails' link: GET asks for confirmation, POST unsubscribes. The one-click POST of
    mail clients (RFC 8058) comes without a session or CSRF token; the signed token, which
    names the person and what they follow, is what protects it."""
    target = service.read_unsubscribe_token(token)
    if target is None:
        abort(
            404,
            _(
                "Ce lien de désabonnement n'est pas valide : vérifiez qu'il est complet, ou "
                "gérez vos abonnements depuis l'espace du réseau."
            ),
        )
    if request.method == "POST":
        ended = service.unsubscribe_with_link(target)
        flash(
            _("C'est fait : vous ne recevrez plus ces e-mails.")
            if ended
            else _("Vous étiez déjà désabonné·e : rien n'a changé."),
            "success",
        )
        return redirect(url_for(".unsubscribe_link", token=token), 303)
    page = service.unsubscribe_page(target)
    return render_template("discussion/unsubscribe.html", page=page, token=token)
