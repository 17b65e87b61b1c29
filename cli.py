"""Command line: `flask demo`, `flask users create`, `flask groups create`."""

import click
from flask import Flask
from flask.cli import AppGroup

users_cli = AppGroup("users", help="Gérer les comptes.")
groups_cli = AppGroup("groups", help="Gérer les groupes d'action.")


@click.command("demo")
def demo_command():
    """Charger le jeu de données de démonstration (sans effet s'il est déjà chargé)."""
    from demo_data import load_demo

    load_demo(click.echo)


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(groups_cli)
