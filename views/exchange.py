"""The private exchange on a proposal: the fragment's context and posting a message.

The workspace page includes "exchange/_exchange.html" with `exchange_context(proposal)`
merged into its context; htmx replaces the fragment (#echange) after a message is sent.
"""

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from wtforms import TextAreaField

from models import ActionGroup, Proposal, db
from services.errors import Invalid
from services.exchange import BODY_MAX, mark_read, messages_for, post_message, unread_counts
from services.workspace_access import is_team

from .forms import Form
from .htmx import is_htmx, vary_on_htmx

bp = Blueprint("exchange", __name__)

__all__ = ["bp", "exchange_context", "unread_counts"]


class MessageForm(Form):
    # The rules (required, length) are the service's: it checks access first.
    message = TextAreaField(_l("Votre message"), id="exchange-message")


def exchange_context(
    proposal: Proposal,
    form: MessageForm | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> dict:
    """What "exchange/_exchange.html" needs, for the signed-in person (who must share the
    workspace). The messages are read first and then marked read, so that the unread ones
    are marked on this page once, and not on the next.

    The read pointer moves once the response is built: its write transaction commits the
    request's session, which would otherwise expire every object the page still renders.
    """
    proposal_id = proposal.id
    group = (
        db.session.get(ActionGroup, proposal.origin_group_id)
        if proposal.origin_group_id is not None
        else None
    )
    group_name = group.name if group is not None else None
    messages = messages_for(current_user, proposal_id)
    unread = sum(1 for message in messages if message.unread)
    if unread:
        person, last_shown = current_user._get_current_object(), messages[-1].id

        @after_this_request
        def _mark_read(response):
            try:
                mark_read(person, proposal_id, up_to=last_shown)
            except SQLAlchemyError:
                # The page is built: the messages stay marked new until the next visit.
                current_app.logger.exception("Could not mark the exchange read")
            return response

    return {
        "exchange_proposal_id": proposal_id,
        "exchange_group_name": group_name,
        "exchange_is_team": is_team(current_user),
        "exchange_messages": messages,
        "exchange_unread": unread,
        "exchange_form": form or MessageForm(formdata=None),
        "exchange_error": error,
        "exchange_notice": notice,
        "exchange_body_max": BODY_MAX,
    }


@bp.post("/espace/propositions/<int:proposal_id>/messages")
def post(proposal_id: int):
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    form = MessageForm()
    try:
        post_message(current_user, proposal_id, form.message.data)
    except Invalid as error:
        # Only raised once access is granted: the form comes back with what was typed.
        proposal = db.session.get(Proposal, proposal_id)
        context = exchange_context(proposal, form=form, error=error.message)
        template = "exchange/_exchange.html" if is_htmx() else "exchange/message.html"
        return vary_on_htmx(
            make_response(render_template(template, proposal=proposal, **context), error.status)
        )
    if is_htmx():
        proposal = db.session.get(Proposal, proposal_id)
        context = exchange_context(proposal, notice=_("Votre message est envoyé."))
        return vary_on_htmx(make_response(render_template("exchange/_exchange.html", **context)))
    flash(_("Votre message est envoyé."), "success")
    return redirect(url_for("workspace.show", proposal_id=proposal_id, _anchor="echange"), 303)
