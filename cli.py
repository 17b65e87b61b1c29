"""Command line: `flask demo`, `flask users create`, `flask groups create`, `flask budget`,
`flask reseau` (the discussion list's e-mails)."""

import click
from flask import Flask
from flask.cli import AppGroup

from models import STAFF_ROLES, BudgetRound, db
from services import admin_queries
from services.errors import DomainError
from services.groups import create_group_unchecked, set_membership_unchecked
from services.people import PASSWORD_MIN_LENGTH, create_person_unchecked

users_cli = AppGroup("users", help="Gérer les comptes.")
groups_cli = AppGroup("groups", help="Gérer les groupes d'action.")
budget_cli = AppGroup("budget", help="Le budget participatif.")
reseau_cli = AppGroup("reseau", help="Le réseau des élu·es : les e-mails des discussions.")

french_help = click.help_option("--help", help="Afficher cette aide et quitter.")
french_help(users_cli)
french_help(groups_cli)
french_help(budget_cli)
french_help(reseau_cli)


class CommandError(click.ClickException):
    """An error shown in French, without click's English "Error:" prefix; exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", file=file, err=file is None)


@click.command("demo")
def demo_command():
    """Charger le jeu de données de démonstration (sans effet s'il est déjà chargé)."""
    from demo_data import load_demo

    load_demo(click.echo)


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--name",
    "display_name",
    metavar="NOM",
    help="Nom affiché (par défaut : la partie de l'adresse avant « @ »).",
)
@click.option(
    "--password",
    metavar="MOT_DE_PASSE",
    prompt="Mot de passe",
    hide_input=True,
    confirmation_prompt="Confirmez le mot de passe",
    help=f"Mot de passe initial, {PASSWORD_MIN_LENGTH} caractères au moins "
    "(demandé sans affichage s'il est omis).",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(STAFF_ROLES),
    help="Rôle d'équipe à donner ; répétez l'option pour en donner plusieurs.",
)
@french_help
def create_user_command(email: str, display_name: str | None, password: str, roles):
    """Créer le compte EMAIL, avec ses rôles d'équipe éventuels."""
    if display_name is None:
        display_name = email.partition("@")[0]
    roles = tuple(dict.fromkeys(roles))
    try:
        person_id = create_person_unchecked(email, display_name, password, roles)
    except DomainError as error:
        raise CommandError(error.message) from error
    click.echo(
        f"Compte n° {person_id} créé : {email.strip().lower()}, "
        + (f"rôles : {', '.join(roles)}." if roles else "sans rôle d'équipe.")
    )


@groups_cli.command("create")
@click.argument("name", metavar="NOM")
@click.option(
    "--commune", metavar="COMMUNE", prompt="Commune", help="Commune du groupe (demandée si omise)."
)
@click.option(
    "--departement",
    required=True,
    metavar="CODE",
    help="Code du département : 33, 2A, 971…",
)
@click.option("--certified", is_flag=True, help="Certifier le groupe dès sa création.")
@click.option(
    "--manager",
    "managers",
    multiple=True,
    metavar="EMAIL",
    help="Adresse d'un compte existant à nommer gestionnaire du groupe (répétable).",
)
@french_help
def create_group_command(name: str, commune: str, departement: str, certified: bool, managers):
    """Créer le groupe d'action NOM."""
    # Every manager must exist before anything is written.
    unknown = [email for email in managers if admin_queries.person_id_by_email(email) is None]
    if unknown:
        raise CommandError(f"Aucun compte n'a cette adresse e-mail : {', '.join(unknown)}.")
    try:
        group_id = create_group_unchecked(name, commune, departement, certified=certified)
        for email in managers:
            set_membership_unchecked(group_id, email, "manager")
    except DomainError as error:
        raise CommandError(error.message) from error
    click.echo(
        f"Groupe n° {group_id} créé : {name.strip()}"
        + (", certifié" if certified else ", non certifié")
        + (f", gestionnaires : {', '.join(managers)}." if managers else ".")
    )


@budget_cli.command("settle")
@click.argument("round_id", type=int, required=False)
@french_help
def settle_command(round_id: int | None):
    """Servir les engagements en attente de budget et rendre finançables les actions qui
    atteignent leur seuil (le budget courant, ou ROUND_ID).

    Les services le font d'eux-mêmes après un retrait ou un changement de seuil ; la commande
    rattrape un serveur arrêté entre les deux. Sans effet quand tout est à jour."""
    from services.budget import current_round, settle_round

    if round_id is None:
        budget_round = current_round()
        if budget_round is None:
            raise CommandError("Aucun budget participatif n'est courant.")
        round_id = budget_round.id
    elif db.session.get(BudgetRound, round_id) is None:
        raise CommandError(f"Aucun budget participatif n'a le numéro {round_id}.")
    settled = settle_round(round_id)
    click.echo(
        f"Budget n° {round_id} : {settled.reserved} réservation(s) faite(s), "
        f"{settled.fundable} action(s) devenue(s) finançable(s)."
    )


def _delivery_line(delivery) -> str:
    line = f"{delivery.sent} notification(s) envoyée(s), {delivery.failed} en échec"
    if delivery.dropped:
        line += f", {delivery.dropped} abandonnée(s) (message masqué ou abonnement terminé)"
    return line + "."


@reseau_cli.command("envoyer")
@french_help
def send_notifications_command():
    """Envoyer les notifications immédiates restées en attente (serveur SMTP injoignable,
    MAIL_SERVER absent au moment du message). Chacune est tentée 5 fois au plus ; celles
    écrites depuis moins d'une minute sont laissées à la requête qui les envoie."""
    from services.discussion import send_pending_notifications
    from services.mailer import MailNotConfigured

    try:
        delivery = send_pending_notifications()
    except MailNotConfigured as error:
        raise CommandError("MAIL_SERVER n'est pas configuré : rien n'est envoyé.") from error
    click.echo(_delivery_line(delivery))
    if delivery.failed:
        raise CommandError(
            "des notifications n'ont pas pu partir ; relancez la commande plus tard."
        )


@reseau_cli.command("resume")
@french_help
def send_digests_command():
    """Envoyer le résumé quotidien à chaque membre qui l'a choisi : un e-mail par personne
    avec ses messages en attente, par discussion. Sans effet s'il n'y a rien de nouveau."""
    from services.discussion import send_digests
    from services.mailer import MailNotConfigured

    try:
        delivery = send_digests()
    except MailNotConfigured as error:
        raise CommandError("MAIL_SERVER n'est pas configuré : rien n'est envoyé.") from error
    click.echo(f"{delivery.people} résumé(s) envoyé(s) ; " + _delivery_line(delivery))
    if delivery.failed:
        raise CommandError("des résumés n'ont pas pu partir ; relancez la commande plus tard.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(groups_cli)
    app.cli.add_command(budget_cli)
    app.cli.add_command(reseau_cli)
