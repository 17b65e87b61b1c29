"""The network stage of the demo (`flask demo`): the movement's elected officials with their
mandates at every level, the network's animation team, the shared library with real files,
the discussion list and support requests.

It runs after the illustrations and before the money, in a write transaction of its own: the
rows are written directly through the models in a few bulk flushes, as `demo_data` writes
its own, with the services' rules kept and checked here (a RuntimeError names what a change
of these data broke):

- every mandate has a role its level allows (models.ROLES_BY_LEVEL), and two mandates of one
  person on the same council (same level and `council_key`, folded by services.themes) never
  overlap, both ends inclusive, as services.network checks them; terms follow the French
  electoral calendar, the term under way being the last one begun at least
  TERM_SETTLED_DAYS ago (so that no history has to move right after an election);
- an application comes from someone holding a mandate (the declined one excepted: that is
  why it was declined), and a decision follows it;
- whatever a person deposits, posts, reuses or asks is dated while they are a member;
- a thread's posts run in order after its creation, its `post_count` counts the visible ones
  and `last_post_at` is the last visible one's; every author follows the threads they wrote
  in, as services.discussion makes them; no notification is owed (nothing pending to send);
- a resource's `reuse_count` is its number of ResourceReuse rows and its `search_text` is
  services.library.search_text_of, the very text the library service indexes;
- a support request's status is the one its exchange leads to through services.support's
  transitions, and each transition has the audit entry the request's history is read from;
  so have the applications and decisions (the profile's history) and the hidden post.

The files (about half of the resources, and one support request) are generated here, real
PDF, ODT, DOCX, XLSX, ODS and PNG documents, and go through services.documents'
check_document and store_document as an upload does. If the stage fails, its files are
removed and its transaction rolls back; `delete_rows` and `remove_files` let the demo's undo
take back what it wrote after it committed.
"""

import io
import random
import re
import textwrap
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import delete, select

from models import (
    ROLES_BY_LEVEL,
    AuditEntry,
    Mandate,
    MandateLevel,
    MandateRole,
    MandateSide,
    NetworkMember,
    NetworkStatus,
    NetworkTeamEntry,
    NetworkTheme,
    NotifyMode,
    Person,
    Post,
    PostNotification,
    Resource,
    ResourceFile,
    ResourceKind,
    ResourceLevel,
    ResourceOutcome,
    ResourceReuse,
    Subscription,
    SupportFile,
    SupportKind,
    SupportMessage,
    SupportRequest,
    SupportStatus,
    SupportUrgency,
    TeamRole,
    Thread,
    db,
    network_member_theme,
    resource_theme,
)
from services import documents
from services.library import search_text_of
from services.themes import theme_key
from services.tx import write_transaction

SEED = "2027-network"
PARIS = ZoneInfo("Europe/Paris")
L = MandateLevel
R = MandateRole
MAJ = MandateSide.majorite
OPP = MandateSide.opposition
K = ResourceKind
O = ResourceOutcome  # noqa: E741

# ---------------------------------------------------------------------------------------------
# Mandates: the French electoral calendar (when the councils elected were installed).

CALENDARS: dict[str, tuple[date, ...]] = {
    "municipal": (date(2008, 3, 21), date(2014, 3, 28), date(2020, 7, 4), date(2026, 3, 28),
                  date(2032, 3, 26)),
    "intercommunal": (date(2008, 4, 18), date(2014, 4, 18), date(2020, 7, 16),
                      date(2026, 4, 16), date(2032, 4, 15)),
    "departemental": (date(2011, 3, 31), date(2015, 4, 2), date(2021, 7, 1), date(2028, 3, 30)),
    "regional": (date(2010, 3, 26), date(2016, 1, 4), date(2021, 7, 2), date(2028, 3, 31)),
    "depute": (date(2012, 6, 26), date(2017, 6, 27), date(2022, 6, 28), date(2024, 7, 18),
               date(2029, 6, 26)),
    # The Senate is renewed by halves: each département votes every six years, in its series.
    "senat_1": (date(2011, 10, 1), date(2017, 10, 2), date(2023, 10, 2), date(2029, 10, 1)),
    "senat_2": (date(2014, 10, 1), date(2020, 10, 1), date(2026, 10, 1), date(2032, 10, 1)),
    "europeen": (date(2009, 7, 14), date(2014, 7, 1), date(2019, 7, 2), date(2024, 7, 16),
                 date(2029, 7, 17)),
    "francais_etranger": (date(2014, 6, 2), date(2021, 6, 7), date(2026, 6, 8),
                          date(2032, 6, 7)),
}  # fmt: skip
# A term counts as the one under way once it began this long ago: the demo's history (a year
# at most) then never straddles the election that opened it for someone elected at it.
TERM_SETTLED_DAYS = 150


def term_dates(calendar: str, back: int, today: date) -> tuple[date, date | None]:
    """The term under way (back=0) or the one `back` terms before: its first day, and its
    last (None while it runs), the day before the next term's first."""
    starts = [d for d in CALENDARS[calendar] if d <= today - timedelta(days=TERM_SETTLED_DAYS)]
    start = starts[-1 - back]
    return start, (None if back == 0 else starts[-back] - timedelta(days=1))


@dataclass(frozen=True)
class Term:
    """A mandate as its holder declared it."""

    level: MandateLevel
    council: str
    role: MandateRole
    side: MandateSide
    back: int = 0  # 0: the term under way; 1: the one before…
    calendar: str = ""  # the level's by default; a senator's series
    starts_on: date | None = None  # a term off the calendar
    ends_on: date | None = None


@dataclass(frozen=True)
class Elected:
    """An elected official in the network (or asking to be)."""

    key: str
    first: str  # empty for a demo account: its name is the account's
    last: str
    departement: str | None  # None: living abroad
    mandates: tuple[Term, ...]
    themes: tuple[str, ...]
    motivation: str
    presentation: str
    days: float  # applied this many days ago
    status: NetworkStatus = NetworkStatus.member
    reason: str = ""  # why declined, or excluded
    excluded_days: float = 0  # excluded this many days ago
    daily: bool = False  # notifications in a daily digest
    team: bool = False  # the network's animation team (staff role)
    account: str = ""  # the key of a demo account (demo_data.DEMO_ACCOUNTS)


THEMES = (
    "Eau en régie publique",
    "Cantines bio",
    "Services publics",
    "Dotations",
    "Travail détaché",
    "Logement",
    "Transports gratuits",
    "Démocratie locale",
    "Énergie",
    "Santé",
    "Commande publique",
    "Écoles",
    "Vie du réseau",
)
EAU, BIO, SP, DOT, DET, LOG, TRANS, DEMO, ENER, SANTE, MARCHES, ECOLES, RESEAU = THEMES

S1, S2 = "senat_1", "senat_2"

ELECTED = (
    Elected(
        "claire", "", "", "31",
        (
            Term(L.regional, "Conseil régional d'Occitanie", R.conseiller, MAJ),
            Term(L.regional, "Conseil régional d'Occitanie", R.conseiller, MAJ, back=1),
            Term(L.municipal, "Conseil municipal de Toulouse", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal de Toulouse", R.conseiller, OPP, back=1),
        ),
        (TRANS, SP, DEMO),
        "Je participe à la création du réseau : il manque un lieu où les élu·es du mouvement "
        "partagent ce qui marche, d'un niveau de mandat à l'autre.",
        "Conseillère régionale d'Occitanie, déléguée aux mobilités du quotidien, et conseillère "
        "municipale d'opposition à Toulouse. Je co-anime le réseau : accueil des nouveaux "
        "membres, rencontres par niveau de mandat, relations avec les autres réseaux d'élu·es.",
        330, account="network",
    ),
    Elected(
        "karim", "Karim", "Haddad", "93",
        (
            Term(L.departemental, "Conseil départemental de la Seine-Saint-Denis",
                 R.vice_president, MAJ),
            Term(L.municipal, "Conseil municipal de Montreuil", R.adjoint, MAJ),
            Term(L.municipal, "Conseil municipal de Montreuil", R.conseiller, MAJ, back=1),
        ),
        (LOG, SANTE, DOT, MARCHES),
        "Co-fondateur du réseau avec Claire : je veux que nos élu·es aient un appui juridique "
        "à la hauteur de celui des grands groupes.",
        "Vice-président du conseil départemental de la Seine-Saint-Denis, chargé de la commande "
        "publique, et adjoint au maire de Montreuil. Juriste de formation, je co-anime le "
        "réseau et je suis les demandes d'appui juridique.",
        330, team=True,
    ),
    Elected(
        "helene", "", "", "33",
        (
            Term(L.municipal, "Conseil municipal de Bègles", R.adjoint, MAJ),
            Term(L.municipal, "Conseil municipal de Bègles", R.conseiller, MAJ, back=1),
            Term(L.intercommunal, "Bordeaux Métropole", R.conseiller, MAJ),
        ),
        (BIO, EAU, ECOLES),
        "Je prépare le passage de nos cantines à 50 % de bio et je cherche celles et ceux qui "
        "l'ont déjà fait.",
        "Adjointe au maire de Bègles chargée de l'alimentation durable et de la restauration "
        "scolaire, conseillère métropolitaine de Bordeaux Métropole.",
        300, daily=True, account="elue",
    ),
    Elected(
        "thomas", "", "", "69",
        (Term(L.municipal, "Conseil municipal de Villeurbanne", R.conseiller, MAJ),),
        (BIO, ECOLES),
        "Conseiller municipal délégué à la restauration collective, je prépare le passage au "
        "bio et au local de nos cantines : j'aimerais profiter de l'expérience des communes qui "
        "l'ont fait, et partager nos délibérations.",
        "Conseiller municipal de Villeurbanne délégué à la restauration collective.",
        4, status=NetworkStatus.pending, account="candidat",
    ),
    Elected(
        "mathieu", "Mathieu", "Caron", "91",
        (
            Term(L.municipal, "Conseil municipal de Grigny", R.maire, MAJ),
            Term(L.municipal, "Conseil municipal de Grigny", R.adjoint, MAJ, back=1),
            Term(L.intercommunal, "Communauté d'agglomération Grand Paris Sud Seine-Essonne-Sénart",
                 R.vice_president, MAJ),
        ),
        (DOT, SP, LOG),
        "Maire d'une commune pauvre, je veux porter avec d'autres la question des dotations.",
        "Maire de Grigny, vice-président de Grand Paris Sud chargé de la politique de la ville. "
        "Dotations, rénovation urbaine, présence des services publics dans les quartiers.",
        290,
    ),
    Elected(
        "nadia", "Nadia", "Cherif", "69",
        (
            Term(L.intercommunal, "Métropole de Lyon", R.vice_president, MAJ),
            Term(L.intercommunal, "Métropole de Lyon", R.conseiller, MAJ, back=1),
        ),
        (EAU, TRANS),
        "J'ai suivi le retour de l'eau en régie à la métropole : je peux en faire profiter le "
        "réseau.",
        "Vice-présidente de la Métropole de Lyon chargée de l'eau et de l'assainissement. J'ai "
        "suivi la création de la régie publique de l'eau, de la délibération au premier jour.",
        280,
    ),
    Elected(
        "julien", "Julien", "Marchetti", "2B",
        (
            Term(L.regional, "Assemblée de Corse", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal de Bastia", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal de Bastia", R.conseiller, OPP, back=1),
            Term(L.departemental, "Conseil départemental de la Haute-Corse", R.conseiller, OPP,
                 starts_on=date(2015, 4, 2), ends_on=date(2017, 12, 31)),
        ),
        (LOG, ENER, SANTE),
        "Élu d'opposition à l'Assemblée de Corse, je veux rompre l'isolement insulaire.",
        "Conseiller à l'Assemblée de Corse et conseiller municipal de Bastia, dans l'opposition. "
        "Logement des résident·es à l'année, énergie, accès aux soins dans l'intérieur.",
        260,
    ),
    Elected(
        "marie_ange", "Marie-Ange", "Santoni", "2A",
        (
            Term(L.municipal, "Conseil municipal d'Ajaccio", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal d'Ajaccio", R.conseiller, OPP, back=1),
        ),
        (SP, SANTE),
        "Dans l'opposition depuis deux mandats, je cherche des idées qui ont marché ailleurs.",
        "Conseillère municipale d'opposition à Ajaccio, réélue. Services publics de "
        "proximité, santé, droits de l'opposition.",
        120,
    ),
    Elected(
        "elise", "Élise", "Moreau", "59",
        (
            Term(L.depute, "Assemblée nationale", R.parlementaire, OPP),
            Term(L.depute, "Assemblée nationale", R.parlementaire, OPP, back=1),
            Term(L.municipal, "Conseil municipal de Roubaix", R.conseiller, OPP, back=1),
        ),
        (DET, SP),
        "Députée, je veux relayer à l'Assemblée ce que vivent les élu·es locaux du réseau.",
        "Députée du Nord, membre de la commission des affaires sociales. Travail détaché, "
        "inspection du travail, services publics. Ancienne conseillère municipale de Roubaix.",
        310,
    ),
    Elected(
        "rachid", "Rachid", "Amrani", "13",
        (
            Term(L.depute, "Assemblée nationale", R.parlementaire, OPP),
            Term(L.depute, "Assemblée nationale", R.parlementaire, OPP, back=1),
            Term(L.municipal, "Conseil municipal de Marseille", R.conseiller, MAJ, back=1),
        ),
        (LOG, SANTE, TRANS),
        "Député de Marseille, je souhaite travailler avec les élu·es locaux sur le logement "
        "indigne.",
        "Député des Bouches-du-Rhône, ancien conseiller municipal de Marseille. Logement "
        "indigne, copropriétés dégradées, transports dans les quartiers nord.",
        250,
    ),
    Elected(
        "martine", "Martine", "Le Goff", "44",
        (
            Term(L.senateur, "Sénat", R.parlementaire, OPP, calendar=S2),
            Term(L.senateur, "Sénat", R.parlementaire, OPP, back=1, calendar=S2),
        ),
        (DOT, SP),
        "Au Sénat, je suis les finances locales : j'ai besoin des chiffres de vos communes.",
        "Sénatrice de la Loire-Atlantique, membre de la commission des finances. Je suis les "
        "dotations aux collectivités et la péréquation.",
        270, daily=True,
    ),
    Elected(
        "bruno", "Bruno", "Tessier", "93",
        (
            Term(L.senateur, "Sénat", R.parlementaire, OPP, calendar=S1),
            Term(L.senateur, "Sénat", R.parlementaire, OPP, back=1, calendar=S1),
            Term(L.departemental, "Conseil départemental de la Seine-Saint-Denis", R.conseiller,
                 MAJ, back=1),
        ),
        (LOG, DET, DOT),
        "Sénateur, je veux que nos propositions de loi partent du terrain.",
        "Sénateur de la Seine-Saint-Denis, ancien conseiller départemental. Logement, droit du "
        "travail, finances des départements.",
        230, daily=True,
    ),
    Elected(
        "lea", "Léa", "Fontaine", "75",
        (
            Term(L.europeen, "Parlement européen", R.parlementaire, OPP),
            Term(L.europeen, "Parlement européen", R.parlementaire, OPP, back=1),
        ),
        (DET, ENER),
        "Députée européenne, je veux expliquer ce que les directives changent pour les "
        "collectivités.",
        "Députée européenne, à son deuxième mandat, membre de la commission de l'emploi et des "
        "affaires sociales. Travail détaché, marchés publics, énergie.",
        300,
    ),
    Elected(
        "samuel", "Samuel", "Ortiz", "34",
        (
            Term(L.europeen, "Parlement européen", R.parlementaire, OPP),
            Term(L.municipal, "Conseil municipal de Montpellier", R.conseiller, OPP, back=1),
        ),
        (ENER, EAU, TRANS),
        "Nouvellement élu au Parlement européen, je veux garder le lien avec les élu·es locaux.",
        "Député européen, ancien conseiller municipal de Montpellier. Fonds européens pour les "
        "collectivités, transition énergétique.",
        140,
    ),
    Elected(
        "julie", "Julie", "Rousseau", None,
        (
            Term(L.francais_etranger, "Conseil consulaire de Montréal", R.conseiller, OPP),
            Term(L.francais_etranger, "Conseil consulaire de Montréal", R.conseiller, OPP,
                 back=1),
        ),
        (DEMO, SP),
        "Conseillère des Français de l'étranger, je voudrais que nos élu·es hors de France "
        "aient leur place dans le réseau.",
        "Conseillère des Français de l'étranger à Montréal. Bourses scolaires, aide sociale "
        "consulaire, accès aux services publics à distance.",
        200, daily=True,
    ),
    Elected(
        "antoine", "Antoine", "Giraud", None,
        (
            Term(L.francais_etranger, "Conseil consulaire de Barcelone", R.president, MAJ),
            Term(L.francais_etranger, "Conseil consulaire de Barcelone", R.conseiller, MAJ,
                 back=1),
        ),
        (SP, SANTE),
        "Président d'un conseil consulaire, je veux partager nos pratiques avec d'autres.",
        "Président du conseil consulaire de Barcelone. Démarches en ligne, accès aux droits des "
        "personnes âgées, santé des Français installés en Espagne.",
        160,
    ),
    Elected(
        "sylvie", "Sylvie", "Bernard", "38",
        (
            Term(L.municipal, "Conseil municipal de Grenoble", R.adjoint, MAJ),
            Term(L.municipal, "Conseil municipal de Grenoble", R.adjoint, MAJ, back=1),
            Term(L.intercommunal, "Grenoble-Alpes Métropole", R.vice_president, MAJ),
        ),
        (EAU, ENER),
        "L'eau et l'énergie publiques sont mon quotidien : je veux aider d'autres collectivités.",
        "Adjointe au maire de Grenoble et vice-présidente de Grenoble-Alpes Métropole chargée "
        "de l'eau. Tarification sociale et progressive, régies publiques, rénovation "
        "énergétique.",
        320,
    ),
    Elected(
        "francois", "François", "Mercier", "06",
        (
            Term(L.municipal, "Conseil municipal de Mouans-Sartoux", R.adjoint, MAJ),
            Term(L.municipal, "Conseil municipal de Mouans-Sartoux", R.adjoint, MAJ, back=1),
            Term(L.intercommunal, "Communauté d'agglomération du Pays de Grasse", R.conseiller,
                 OPP),
        ),
        (BIO, ECOLES),
        "Notre cantine est entièrement bio depuis longtemps : je veux transmettre.",
        "Adjoint au maire de Mouans-Sartoux chargé de l'alimentation : cantines 100 % bio, régie "
        "agricole municipale, lutte contre le gaspillage.",
        240, daily=True,
    ),
    Elected(
        "aurelie", "Aurélie", "Dumas", "63",
        (
            Term(L.departemental, "Conseil départemental du Puy-de-Dôme", R.conseiller, MAJ),
            Term(L.departemental, "Conseil départemental du Puy-de-Dôme", R.conseiller, MAJ,
                 back=1),
        ),
        (SANTE, SP),
        "Le département crée un centre de santé : je veux partager la démarche.",
        "Conseillère départementale du Puy-de-Dôme, déléguée à l'accès aux soins. Centre "
        "départemental de santé, médecins salariés, antennes dans les cantons ruraux.",
        220,
    ),
    Elected(
        "olivier", "Olivier", "Perret", "62",
        (
            Term(L.regional, "Conseil régional des Hauts-de-France", R.conseiller, OPP),
            Term(L.regional, "Conseil régional des Hauts-de-France", R.conseiller, OPP, back=1),
        ),
        (TRANS, DET),
        "Élu régional d'opposition depuis deux mandats, je veux préparer avec d'autres les "
        "prochaines régionales.",
        "Conseiller régional des Hauts-de-France, dans l'opposition. Trains du quotidien, "
        "lycées, formation professionnelle.",
        280,
    ),
    Elected(
        "fatou", "Fatou", "Diallo", "94",
        (
            Term(L.departemental, "Conseil départemental du Val-de-Marne", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal d'Ivry-sur-Seine", R.adjoint, MAJ),
            Term(L.municipal, "Conseil municipal d'Ivry-sur-Seine", R.conseiller, MAJ, back=1),
        ),
        (LOG, ECOLES),
        "Adjointe au logement, je veux échanger sur l'encadrement des loyers.",
        "Adjointe au maire d'Ivry-sur-Seine chargée du logement, conseillère départementale "
        "d'opposition du Val-de-Marne.",
        210,
    ),
    Elected(
        "gael", "Gaël", "Le Roux", "35",
        (
            Term(L.municipal, "Conseil municipal de Rennes", R.conseiller, MAJ),
            Term(L.municipal, "Conseil municipal de Rennes", R.conseiller, MAJ, back=1),
            Term(L.intercommunal, "Rennes Métropole", R.conseiller, MAJ),
        ),
        (DEMO, LOG),
        "Je veux partager notre expérience du budget participatif et de l'encadrement des "
        "loyers.",
        "Conseiller municipal de Rennes délégué à la démocratie locale, conseiller "
        "métropolitain. Budget participatif, encadrement des loyers.",
        190,
    ),
    Elected(
        "jeanne", "Jeanne", "Morvan", "29",
        (
            Term(L.municipal, "Conseil municipal de Brest", R.adjoint, MAJ),
            Term(L.intercommunal, "Brest métropole", R.conseiller, MAJ),
        ),
        (ENER, ECOLES),
        "Élue en charge des bâtiments scolaires, je cherche des retours sur la rénovation.",
        "Adjointe au maire de Brest chargée des bâtiments scolaires, conseillère de Brest "
        "métropole.",
        100,
    ),
    Elected(
        "damien", "Damien", "Carpentier", "59",
        (
            Term(L.municipal, "Conseil municipal de Dunkerque", R.conseiller, MAJ),
            Term(L.municipal, "Conseil municipal de Dunkerque", R.conseiller, MAJ, back=1),
            Term(L.intercommunal, "Communauté urbaine de Dunkerque", R.vice_president, MAJ),
        ),
        (TRANS,),
        "La gratuité des bus a changé notre ville : je réponds volontiers à qui veut la faire.",
        "Conseiller municipal de Dunkerque et vice-président de la communauté urbaine chargé "
        "des transports. Gratuité totale du réseau de bus depuis 2018.",
        180,
    ),
    Elected(
        "nathalie", "Nathalie", "Perrin", "87",
        (
            Term(L.municipal, "Conseil municipal de Limoges", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal de Limoges", R.conseiller, OPP, back=1),
        ),
        (SP, EAU, BIO),
        "Dans l'opposition, on se sent parfois seule : le réseau est une bouffée d'air.",
        "Conseillère municipale d'opposition à Limoges. Bureaux de poste, cantines, droits de "
        "l'opposition.",
        170,
    ),
    Elected(
        "sebastien", "Sébastien", "Garcia", "66",
        (
            Term(L.regional, "Conseil régional d'Occitanie", R.vice_president, MAJ),
            Term(L.regional, "Conseil régional d'Occitanie", R.conseiller, MAJ, back=1),
            Term(L.municipal, "Conseil municipal de Perpignan", R.conseiller, OPP),
        ),
        (ENER, EAU),
        "Je prépare le débat sur la fin du contrat de l'eau à Perpignan.",
        "Vice-président du conseil régional d'Occitanie chargé de la transition énergétique, "
        "conseiller municipal d'opposition à Perpignan.",
        150,
    ),
    Elected(
        "laure", "Laure", "Chevalier", "67",
        (
            Term(L.municipal, "Conseil municipal de Strasbourg", R.adjoint, MAJ),
            Term(L.intercommunal, "Eurométropole de Strasbourg", R.vice_president, MAJ),
        ),
        (DEMO, ENER, BIO),
        "Je veux échanger avec d'autres adjoint·es sur l'éducation et la transition.",
        "Adjointe à la maire de Strasbourg chargée de l'éducation, vice-présidente de "
        "l'Eurométropole. Écoles, cantines, rénovation des bâtiments.",
        130,
    ),
    Elected(
        "hugo", "Hugo", "Blanchard", "44",
        (Term(L.municipal, "Conseil municipal de Saint-Nazaire", R.conseiller, OPP),),
        (DET, MARCHES),
        "Élu depuis peu, je veux apprendre des élu·es plus expérimentés du réseau.",
        "Conseiller municipal d'opposition à Saint-Nazaire. Travail détaché sur les chantiers, "
        "commande publique, emploi local.",
        110,
    ),
    Elected(
        "patricia", "Patricia", "Lebon", "974",
        (
            Term(L.municipal, "Conseil municipal du Port", R.adjoint, MAJ),
            Term(L.municipal, "Conseil municipal du Port", R.adjoint, MAJ, back=1),
            Term(L.regional, "Conseil régional de La Réunion", R.conseiller, MAJ),
        ),
        (SANTE, LOG, SP),
        "Je veux que les outre-mer aient toute leur place dans le réseau.",
        "Adjointe au maire du Port et conseillère régionale de La Réunion. Accès aux soins, "
        "logement social, continuité territoriale.",
        260,
    ),
    Elected(
        "serge", "Serge", "Bellemare", "972",
        (
            Term(L.regional, "Assemblée de Martinique", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal de Fort-de-France", R.conseiller, MAJ),
            Term(L.municipal, "Conseil municipal de Fort-de-France", R.conseiller, MAJ, back=1),
        ),
        (EAU, SANTE),
        "L'eau et la santé sont des urgences chez nous : je veux partager nos combats.",
        "Conseiller à l'Assemblée de Martinique, dans l'opposition, et conseiller municipal de "
        "Fort-de-France. Eau potable, chlordécone, accès aux soins.",
        200,
    ),
    Elected(
        "maryse", "Maryse", "Théodose", "971",
        (
            Term(L.departemental, "Conseil départemental de la Guadeloupe", R.conseiller, OPP),
            Term(L.departemental, "Conseil départemental de la Guadeloupe", R.conseiller, OPP,
                 back=1),
        ),
        (EAU, SANTE),
        "Les coupures d'eau en Guadeloupe sont un scandale : je veux mutualiser nos réponses.",
        "Conseillère départementale d'opposition de la Guadeloupe. Eau potable, hôpital public, "
        "vie chère.",
        180, daily=True,
    ),
    Elected(
        "jordan", "Jordan", "Mathurin", "973",
        (
            Term(L.municipal, "Conseil municipal de Cayenne", R.conseiller, MAJ),
            Term(L.intercommunal, "Communauté d'agglomération du Centre Littoral", R.conseiller,
                 MAJ),
        ),
        (SP, EAU, TRANS),
        "Je veux que la Guyane soit représentée dans le réseau.",
        "Conseiller municipal de Cayenne et conseiller communautaire du Centre Littoral. Eau, "
        "transports, accès aux services publics.",
        90,
    ),
    Elected(
        "zainaba", "Zaïnaba", "Ahmed", "976",
        (Term(L.municipal, "Conseil municipal de Mamoudzou", R.conseiller, OPP),),
        (EAU, ECOLES),
        "L'eau au robinet tous les jours n'est toujours pas une réalité à Mayotte.",
        "Conseillère municipale d'opposition à Mamoudzou. Eau potable, écoles, droits de "
        "l'opposition.",
        75,
    ),
    Elected(
        "pierre_yves", "Pierre-Yves", "Colin", "25",
        (
            Term(L.municipal, "Conseil municipal de Besançon", R.adjoint, MAJ),
            Term(L.municipal, "Conseil municipal de Besançon", R.adjoint, MAJ, back=1),
        ),
        (BIO, MARCHES, ENER),
        "Je suis les marchés publics de la ville : bio, local, clauses sociales.",
        "Adjoint à la maire de Besançon chargé de la commande publique. Restauration "
        "collective, clauses sociales et environnementales.",
        160, daily=True,
    ),
    Elected(
        "manon", "Manon", "Leclerc", "86",
        (
            Term(L.municipal, "Conseil municipal de Poitiers", R.conseiller, MAJ),
            Term(L.intercommunal, "Grand Poitiers", R.vice_president, MAJ),
        ),
        (TRANS, DEMO),
        "Je défends la gratuité des bus à Grand Poitiers et cherche des arguments.",
        "Conseillère municipale de Poitiers, vice-présidente de Grand Poitiers chargée des "
        "mobilités.",
        60,
    ),
    Elected(
        "ahmed", "Ahmed", "Boukhari", "69",
        (
            Term(L.municipal, "Conseil municipal de Vénissieux", R.adjoint, MAJ),
            Term(L.intercommunal, "Métropole de Lyon", R.conseiller, MAJ),
        ),
        (ECOLES, LOG, BIO),
        "Je veux partager ce que nous faisons pour les écoles et la restauration scolaire.",
        "Adjoint au maire de Vénissieux chargé de l'éducation, conseiller métropolitain. "
        "Écoles, cuisine centrale en régie, logement.",
        140,
    ),
    Elected(
        "christine", "Christine", "Faure", "56",
        (Term(L.municipal, "Conseil municipal de Lorient", R.conseiller, OPP, back=1),),
        (SP,),
        "Ancienne conseillère municipale de Lorient, je voudrais rester en lien avec les élu·es "
        "du mouvement et partager mon expérience.",
        "Ancienne conseillère municipale d'opposition à Lorient.",
        40, status=NetworkStatus.declined,
        reason="Le réseau réunit les élu·es en mandat, et le vôtre a pris fin. Merci pour votre "
        "message : les rencontres ouvertes du mouvement vous restent grandes ouvertes, et vous "
        "pourrez redemander l'adhésion si vous êtes de nouveau élue.",
    ),
    Elected(
        "franck", "Franck", "Deschamps", "13",
        (
            Term(L.municipal, "Conseil municipal d'Aubagne", R.conseiller, OPP),
            Term(L.municipal, "Conseil municipal d'Aubagne", R.conseiller, OPP, back=1),
        ),
        (SANTE, SP),
        "Élu d'opposition à Aubagne, je veux échanger avec les autres élu·es.",
        "Conseiller municipal d'opposition à Aubagne.",
        230, status=NetworkStatus.excluded, excluded_days=35,
        reason="Après un message masqué et deux rappels à la charte, vous avez transmis à la "
        "presse des échanges de la liste de discussion, noms des élu·es compris. La charte "
        "(article 3) exclut la diffusion des échanges hors du réseau.",
    ),
    Elected(
        "isabelle", "Isabelle", "Roche", "22",
        (Term(L.municipal, "Conseil municipal de Saint-Brieuc", R.conseiller, OPP),),
        (SP, TRANS),
        "Conseillère municipale d'opposition à Saint-Brieuc, je voudrais trouver des modèles de "
        "vœux et d'amendements, et échanger avec des élu·es d'autres villes moyennes.",
        "Conseillère municipale d'opposition à Saint-Brieuc.",
        9, status=NetworkStatus.pending,
    ),
    Elected(
        "mehdi", "Mehdi", "Rahmani", "95",
        (
            Term(L.municipal, "Conseil municipal de Sarcelles", R.conseiller, OPP),
            Term(L.departemental, "Conseil départemental du Val-d'Oise", R.conseiller, OPP),
        ),
        (LOG, SP),
        "Élu municipal et départemental d'opposition, je cherche un appui juridique pour "
        "défendre les locataires des grands ensembles.",
        "Conseiller municipal de Sarcelles et conseiller départemental du Val-d'Oise.",
        15, status=NetworkStatus.pending,
    ),
    Elected(
        "vincent", "Vincent", "Aubert", "23",
        (
            Term(L.municipal, "Conseil municipal de Faux-la-Montagne", R.maire, MAJ),
            Term(L.intercommunal, "Communauté de communes Creuse Grand Sud", R.vice_president,
                 MAJ),
        ),
        (SP, ECOLES),
        "Maire d'une commune de 400 habitants, je me bats pour garder l'école et l'agence "
        "postale : j'aimerais échanger avec d'autres maires ruraux du mouvement.",
        "Maire de Faux-la-Montagne, vice-président de la communauté de communes.",
        2, status=NetworkStatus.pending,
    ),
)  # fmt: skip

# The public page's animation team: (member key or None, name if no account, role, what they do).
TEAM = (
    ("claire", "", TeamRole.co_lead,
     "Conseillère régionale d'Occitanie et conseillère municipale de Toulouse. Accueille les "
     "nouveaux membres et anime les rencontres par niveau de mandat."),
    ("karim", "", TeamRole.co_lead,
     "Vice-président du conseil départemental de la Seine-Saint-Denis et adjoint à Montreuil. "
     "Suit les demandes d'appui juridique et la bibliothèque."),
    ("sylvie", "", TeamRole.member,
     "Adjointe à Grenoble. Anime le groupe de travail sur l'eau et l'énergie publiques."),
    ("patricia", "", TeamRole.member,
     "Adjointe au Port et conseillère régionale de La Réunion. Relais des élu·es des outre-mer."),
    ("elise", "", TeamRole.member,
     "Députée du Nord. Fait le lien entre le réseau et les parlementaires du mouvement."),
    (None, "Lucie Marchal", TeamRole.member,
     "Juriste salariée du mouvement. Prépare avec l'équipe les réponses aux demandes d'appui "
     "juridique."),
)  # fmt: skip

# Who follows a whole theme (besides the threads they wrote in).
THEME_FOLLOWERS = {
    EAU: ("sylvie", "nadia", "sebastien", "maryse", "serge", "zainaba"),
    BIO: ("helene", "francois", "pierre_yves"),
    DET: ("hugo", "lea", "karim"),
    TRANS: ("claire", "damien", "manon"),
    SANTE: ("aurelie", "patricia"),
    LOG: ("gael", "fatou"),
}


# ---------------------------------------------------------------------------------------------
# The shared library.


@dataclass(frozen=True)
class Formula:
    """A spreadsheet formula (Excel syntax, commas between arguments) and its value."""

    text: str
    value: float


@dataclass(frozen=True)
class Shared:
    """A resource deposited in the library."""

    kind: ResourceKind
    author: str
    title: str
    summary: str
    body: str
    council: str
    outcome: ResourceOutcome | None
    levels: tuple[MandateLevel, ...]
    themes: tuple[str, ...]
    days: float  # deposited this many days ago
    decided_days: float | None = 6  # its date, this many days before the deposit
    files: tuple[str, ...] = ()  # the files' names: their kind says how to make them
    sheet: tuple[tuple, ...] = ()  # the rows of its spreadsheet
    poster: tuple[str, ...] = ()  # its picture: the headline, then the lines under it
    reused_by: tuple[tuple[str, str], ...] = ()  # (member, note)


EVERY_LEVEL = tuple(MandateLevel)
LOCAL = (L.municipal, L.intercommunal)

RESOURCES = (
    Shared(
        K.amendement, "nathalie",
        "Amendement au budget primitif : 150 000 € pour le bio dans les cantines",
        "Amendement de l'opposition au budget primitif : transférer 150 000 € des frais de "
        "réception et d'impression vers les achats de denrées de la restauration scolaire, pour "
        "passer de 22 % à 35 % de produits bio dès la rentrée. Rejeté, mais la majorité s'est "
        "engagée à présenter un plan en commission.",
        """## Exposé des motifs

La loi EGalim impose que les repas servis en restauration collective comportent au moins 50 % de
produits durables et de qualité, dont 20 % de produits biologiques. Nos cantines en sont loin,
faute de crédits pour les denrées.

## Dispositif

- Chapitre 011, article 6257 « Réceptions » : **− 50 000 €**
- Chapitre 011, article 6236 « Catalogues et imprimés » : **− 100 000 €**
- Chapitre 011, article 60623 « Alimentation » : **+ 150 000 €**

## Pour le reprendre

1. Un amendement budgétaire doit être équilibré : chaque dépense nouvelle est gagée par une
   économie dans le même budget.
2. Déposez-le par écrit avant la séance, dans le délai fixé par le règlement intérieur.
3. Demandez un vote à main levée avec décompte des voix : chacun assume son vote au
   procès-verbal.""",
        "Conseil municipal de Limoges", O.rejete, (L.municipal,), (BIO, ECOLES), 150,
    ),
    Shared(
        K.amendement, "martine",
        "Amendement au projet de loi de finances : indexer la DGF sur l'inflation",
        "Amendement déposé au Sénat pour indexer la dotation globale de fonctionnement sur "
        "l'évolution des prix, gagé sur les droits sur le tabac. Rejeté en séance ; un "
        "amendement de repli sur la dotation de solidarité urbaine a recueilli davantage de "
        "voix.",
        """## Objet

La dotation globale de fonctionnement (DGF) a peu évolué depuis 2017 alors que les prix ont
fortement augmenté : les communes ont perdu une part importante de leur pouvoir d'achat. Cet
amendement indexe la DGF sur l'évolution prévisionnelle des prix à la consommation hors tabac
retenue par le projet de loi de finances.

## Dispositif

Après l'article 31, insérer un article additionnel ainsi rédigé :

> Le montant de la dotation globale de fonctionnement est majoré du taux prévisionnel d'évolution
des prix à la consommation des ménages, hors tabac, retenu pour l'année à venir.

## Gage

La perte de recettes pour l'État est compensée, à due concurrence, par la création d'une taxe
additionnelle aux droits visés aux articles 575 et 575 A du code général des impôts.

## Pour le reprendre

Les parlementaires du réseau peuvent le redéposer à chaque loi de finances. Les conseils
municipaux peuvent en reprendre l'exposé des motifs dans un vœu : c'est ce qui donne du poids en
séance.""",
        "Sénat", O.rejete, (L.senateur, L.depute), (DOT,), 45, decided_days=4,
        reused_by=(("mathieu", "Repris dans un vœu voté par le conseil municipal de Grigny."),),
    ),
    Shared(
        K.amendement, "karim",
        "Amendement : tous les sous-traitants présentés, à tous les rangs, sur nos chantiers",
        "Amendement au règlement départemental de la commande publique : présentation de chaque "
        "sous-traitant à tous les rangs, tâches essentielles exécutées par le titulaire, "
        "contrôle des déclarations de détachement et pénalités par salarié non déclaré. Adopté.",
        """## Contexte

Sur plusieurs chantiers de collèges, l'inspection du travail a relevé des salariés détachés payés
sous le minimum conventionnel, employés par des sous-traitants de troisième ou quatrième rang que
le titulaire lui-même ne connaissait pas.

## Ce que l'amendement ajoute au règlement

- l'obligation, pour le titulaire, de présenter **chaque sous-traitant, à tous les rangs,** à
  l'acceptation du département avant son intervention ;
- l'exécution des **tâches essentielles** du marché par le titulaire lui-même, comme le code de la
  commande publique le permet ;
- la vérification, à chaque réunion de chantier, des cartes d'identification professionnelle du
  BTP et des déclarations de détachement ;
- une pénalité par salarié trouvé sur le chantier sans avoir été déclaré.

## Résultat

Adopté. Le service de la commande publique a intégré ces clauses au cahier des clauses
administratives particulières type du département.""",
        "Conseil départemental de la Seine-Saint-Denis", O.adopte,
        (L.departemental, L.municipal, L.regional), (DET, MARCHES), 160,
        reused_by=(
            ("fatou", "Proposé à Ivry pour les marchés de travaux des écoles."),
            ("hugo", "Base de notre proposition pour le marché de nettoyage de Saint-Nazaire."),
        ),
    ),
    Shared(
        K.amendement, "olivier",
        "Amendement au budget régional : les TER gratuits pour les moins de 26 ans",
        "Amendement au budget de la région : gratuité des trajets en TER pour les jeunes de "
        "moins de 26 ans, financée par redéploiement de crédits. Chiffrage joint. Rejeté ; la "
        "majorité s'est engagée à étudier la gratuité le week-end.",
        """## Objet

Rendre gratuits les trajets en TER des jeunes de moins de 26 ans résidant dans la région.

## Chiffrage

Le tableur joint reprend nos hypothèses : nombre de voyages des moins de 26 ans, recette moyenne
par voyage, part déjà couverte par les abonnements aidés. Remplacez-les par les chiffres de votre
convention TER, que la région doit communiquer aux élu·es qui les demandent.

## Débat

La majorité a opposé le coût et la saturation de certaines lignes aux heures de pointe. Nous avons
obtenu l'engagement d'étudier la gratuité le week-end, première étape que d'autres régions ont
franchie.""",
        "Conseil régional des Hauts-de-France", O.rejete, (L.regional,), (TRANS,), 150,
        files=("chiffrage-gratuite-ter-moins-de-26-ans.xlsx",),
        sheet=(
            ("Hypothèse", "Valeur", "Unité"),
            ("Voyages annuels des moins de 26 ans", 9_500_000, "voyages"),
            ("Recette moyenne par voyage", 2.4, "€"),
            ("Part déjà couverte par les abonnements aidés", 0.35, "part"),
            ("Coût net annuel de la gratuité", Formula("B2*B3*(1-B4)", 14_820_000.0), "€"),
            ("Budget transports de la région", 1_100_000_000, "€"),
            ("Part du budget transports", Formula("B5/B6", 0.013_472_7), "part"),
        ),
    ),
    Shared(
        K.deliberation, "nadia",
        "Délibération créant la régie publique de l'eau potable",
        "Délibération qui crée, au terme du contrat de délégation, une régie dotée de la "
        "personnalité morale et de l'autonomie financière pour l'eau potable : statuts, conseil "
        "d'administration ouvert aux usagers, reprise du personnel, budget annexe. Adoptée.",
        """## Ce que décide le conseil

1. La création, au terme du contrat de délégation, d'une **régie dotée de la personnalité morale
   et de l'autonomie financière** pour la production et la distribution de l'eau potable ;
2. l'adoption de ses statuts et la désignation de son conseil d'administration, où siègent des
   élu·es, des représentant·es des usagers et des associations ;
3. la reprise des salariés du délégataire affectés au service, avec le maintien de leur
   rémunération ;
4. l'ouverture d'un budget annexe, équilibré par les seules redevances des usagers.

## Pourquoi une régie personnalisée

Elle sépare clairement les comptes de l'eau de ceux de la collectivité, donne une place aux
usagers dans la gouvernance et garde le service sous contrôle public direct.

## Calendrier suivi

- 24 mois avant la fin du contrat : audit des biens de retour et des provisions pour
  renouvellement ;
- 18 mois avant : délibération de principe et information des salariés ;
- 6 mois avant : statuts, budget annexe, recrutement de la direction ;
- à l'échéance : transfert des contrats, des biens et du personnel.""",
        "Métropole de Lyon", O.adopte, LOCAL, (EAU, SP), 240, decided_days=20,
        files=("deliberation-creation-regie-eau.pdf", "budget-annexe-regie-eau.ods"),
        sheet=(
            ("Section d'exploitation", "Prévision (€)"),
            ("Vente d'eau aux usagers", 98_000_000),
            ("Abonnements", 21_500_000),
            ("Autres produits", 3_200_000),
            ("Total des recettes", Formula("SUM(B2:B4)", 122_700_000)),
            ("Charges de personnel", 38_000_000),
            ("Achats, énergie, analyses", 29_500_000),
            ("Dotations aux amortissements", 33_000_000),
            ("Charges financières", 4_200_000),
            ("Total des dépenses", Formula("SUM(B6:B9)", 104_700_000)),
            ("Autofinancement des investissements", Formula("B5-B10", 18_000_000)),
        ),
        reused_by=(
            ("sebastien", "Cité dans notre vœu pour une étude des modes de gestion à Perpignan."),
            ("serge", "Transmis à la commission de l'eau de l'Assemblée de Martinique."),
        ),
    ),
    Shared(
        K.deliberation, "sylvie",
        "Délibération : tarification sociale et progressive de l'eau",
        "Délibération qui rend gratuits les 15 premiers mètres cubes d'eau de chaque foyer et "
        "fait payer davantage les consommations de confort, avec une aide aux foyers dont la "
        "facture dépasse 3 % des ressources. Simulateur joint. Adoptée.",
        """## Principe

Les premiers mètres cubes, ceux de l'eau vitale (boire, cuisiner, se laver), sont facturés au plus
bas prix ; les tranches suivantes coûtent plus cher, pour que les consommations de confort
financent l'eau essentielle.

## Tranches adoptées

| Tranche annuelle par foyer | Prix hors taxes |
| --- | --- |
| de 0 à 15 m³ | gratuit |
| de 16 à 120 m³ | 1,80 € le m³ |
| au-delà de 120 m³ | 2,60 € le m³ |

Une aide annuelle est versée aux foyers dont la facture dépasse 3 % de leurs ressources, sur
critère de quotient familial.

## Points de vigilance

- Les immeubles sans compteur individuel : la tranche gratuite se calcule par logement, sur
  déclaration du bailleur.
- Le code général des collectivités territoriales permet cette progressivité et la tarification
  sociale (articles L. 2224-12-1 et suivants).""",
        "Grenoble-Alpes Métropole", O.adopte, LOCAL, (EAU, SP), 200,
        files=("simulateur-tarification-progressive.ods",),
        sheet=(
            ("Foyer", "Consommation annuelle (m³)", "Facture hors abonnement (€)"),
            ("Personne seule", 30,
             Formula("MAX(MIN(B2,120)-15,0)*1.8+MAX(B2-120,0)*2.6", 27.0)),
            ("Couple", 65, Formula("MAX(MIN(B3,120)-15,0)*1.8+MAX(B3-120,0)*2.6", 90.0)),
            ("Famille de quatre personnes", 120,
             Formula("MAX(MIN(B4,120)-15,0)*1.8+MAX(B4-120,0)*2.6", 189.0)),
            ("Maison avec piscine", 260,
             Formula("MAX(MIN(B5,120)-15,0)*1.8+MAX(B5-120,0)*2.6", 553.0)),
        ),
        reused_by=(
            ("pierre_yves", "Présentée en commission à Besançon, vote prévu au printemps."),
            ("sebastien", "Reprise dans nos propositions pour la future régie de Perpignan."),
        ),
    ),
    Shared(
        K.deliberation, "damien",
        "Délibération : gratuité totale du réseau de bus",
        "Délibération de la communauté urbaine qui rend gratuit tout le réseau de bus, tous les "
        "jours et pour toutes et tous, avec une refonte des lignes et un financement par le "
        "versement mobilité. Adoptée.",
        """## Ce que décide le conseil

- la gratuité de toutes les lignes de bus, tous les jours, pour toutes et tous, sans condition de
  ressources ni de résidence ;
- la refonte du réseau : lignes à haute fréquence toutes les dix minutes, nouveaux couloirs
  réservés ;
- le financement par le versement mobilité des employeurs et par le budget général, les recettes
  de billetterie ne couvrant plus qu'une faible part du coût du réseau.

## Ce que nous avons appris

La billetterie coûte cher (distributeurs, contrôle, lutte contre la fraude) : une part importante
de la recette disparaissait déjà en frais de perception. La fréquentation a fortement progressé
dès la première année, surtout le week-end et chez les jeunes.

## Pour la reprendre

Demandez d'abord à votre autorité organisatrice le taux de couverture des dépenses par les
recettes de billetterie : quand il est faible, la gratuité coûte moins cher qu'on ne le croit.""",
        "Communauté urbaine de Dunkerque", O.adopte, (L.intercommunal, L.municipal),
        (TRANS, SP), 175, decided_days=30,
        reused_by=(
            ("manon", "Présentée au conseil communautaire de Grand Poitiers."),
            ("claire", "Citée dans notre vœu pour une étude de la gratuité à Toulouse."),
        ),
    ),
    Shared(
        K.deliberation, "aurelie",
        "Délibération : un centre départemental de santé et ses antennes",
        "Délibération qui crée un centre départemental de santé en régie, avec des médecins "
        "généralistes salariés et des antennes dans les cantons les moins bien dotés. Fiche de "
        "poste jointe. Adoptée.",
        """## Ce que décide le conseil

Le département crée un centre de santé, géré en régie, qui salarie des médecins généralistes et
installe des antennes dans les cantons où l'offre de soins manque le plus. Les médecins sont
recrutés sur des contrats de droit public, à temps plein ou partiel, sans paiement à l'acte.

## Les chiffres à présenter en séance

- le nombre d'habitant·es sans médecin traitant, que l'assurance maladie communique aux élu·es ;
- le coût d'un poste de médecin salarié, charges comprises, et les recettes des consultations
  facturées à l'assurance maladie ;
- le coût des locaux, souvent mis à disposition par les communes.

## Pièce jointe

La fiche de poste publiée pour les premiers recrutements, à adapter.""",
        "Conseil départemental du Puy-de-Dôme", O.adopte, (L.departemental, L.municipal),
        (SANTE, SP), 130,
        files=("fiche-de-poste-medecin-salarie.docx",),
    ),
    Shared(
        K.voeu, "mathieu",
        "Vœu pour le maintien du bureau de poste de la Grande Borne",
        "Vœu adopté à l'unanimité qui demande à La Poste de maintenir un bureau de plein "
        "exercice dans le quartier, plutôt qu'une agence postale communale aux horaires "
        "réduits, et à l'État de garantir le fonds de présence postale.",
        """## Le vœu

Le conseil municipal,

- considérant que La Poste envisage de transformer le bureau de poste du quartier en agence
  postale communale, aux horaires réduits et aux services limités ;
- considérant que ce bureau est le seul lieu du quartier où retirer de l'argent, ouvrir un compte
  sans condition de ressources ou retirer un recommandé ;
- considérant que la présence postale sur le territoire est une mission de service public ;

demande à La Poste de maintenir un bureau de plein exercice, avec ses horaires actuels, et à
l'État de garantir le financement du fonds de péréquation de la présence postale territoriale.

## Adopté à l'unanimité

Le vœu a été transmis à la direction régionale de La Poste, à la préfecture et aux parlementaires
du département, avec la pétition des habitant·es.""",
        "Conseil municipal de Grigny", O.adopte, (L.municipal,), (SP,), 180,
        files=("voeu-bureau-de-poste-grande-borne.pdf",),
        reused_by=(
            ("nathalie", "Déposé à Limoges pour le bureau de poste de notre quartier."),
            ("jordan", "Adapté pour l'agence postale d'un quartier de Cayenne."),
        ),
    ),
    Shared(
        K.voeu, "julien",
        "Vœu pour la création d'un centre hospitalier universitaire en Corse",
        "Vœu de l'Assemblée de Corse demandant à l'État la création d'un CHU, pour former des "
        "médecins sur l'île et mettre fin aux évacuations sanitaires vers le continent pour les "
        "soins spécialisés. Adopté.",
        """## Le vœu

L'Assemblée de Corse,

- considérant que la Corse est la seule région de France métropolitaine sans centre hospitalier
  universitaire ;
- considérant que de nombreux patients doivent être transférés sur le continent pour des soins
  spécialisés, à leurs frais et loin de leurs proches ;
- considérant que les internes formés sur le continent s'installent rarement sur l'île ;

demande à l'État d'engager sans délai la création d'un centre hospitalier universitaire en Corse,
en lien avec l'université de Corse.

## Suite

Adopté à une large majorité. Nous suivons la réponse du ministère de la santé et proposons un
point d'étape à chaque session.""",
        "Assemblée de Corse", O.adopte, (L.regional,), (SANTE, SP), 140,
    ),
    Shared(
        K.voeu, "gael",
        "Vœu demandant l'encadrement des loyers",
        "Vœu du conseil municipal qui demande l'application de l'encadrement des loyers sur le "
        "territoire de la ville, en s'appuyant sur les données de l'observatoire local des "
        "loyers. Adopté.",
        """## Le vœu

Le conseil municipal,

- considérant la hausse continue des loyers de relocation, bien plus rapide que celle des revenus
  des ménages ;
- considérant que l'observatoire local des loyers dispose des données nécessaires pour fixer des
  loyers de référence ;

demande à l'État d'autoriser l'encadrement des loyers sur le territoire de la commune, dans le
cadre prévu par la loi, et s'engage à informer les locataires de leurs droits.

## Ce qui a suivi

L'encadrement est entré en vigueur. La ville a ouvert un formulaire en ligne pour signaler un
loyer trop élevé, transmis à la préfecture.""",
        "Conseil municipal de Rennes", O.adopte, LOCAL, (LOG,), 120,
        reused_by=(("fatou", "Repris pour la demande d'extension de l'encadrement à Ivry."),),
    ),
    Shared(
        K.voeu, "zainaba",
        "Vœu pour le retour de l'eau au robinet tous les jours",
        "Vœu de l'opposition demandant un plan d'urgence pour l'eau potable à Mamoudzou : "
        "fin des tours d'eau, distribution gratuite pendant les coupures, investissements dans "
        "les forages et l'usine de dessalement. Inscrit à l'ordre du jour du prochain conseil.",
        """## Le vœu

Le conseil municipal,

- considérant que des quartiers entiers de la commune vivent au rythme des tours d'eau, privés
  d'eau au robinet plusieurs jours par semaine ;
- considérant que les écoles ferment faute d'eau et que les familles achètent de l'eau en
  bouteille qu'elles ne peuvent pas payer ;

demande à l'État et au syndicat des eaux un plan d'urgence : distribution gratuite d'eau potable
pendant chaque coupure, calendrier public des investissements dans les forages, les réseaux et le
dessalement, et information quotidienne des habitant·es.

## État

Déposé, inscrit à l'ordre du jour du prochain conseil municipal.""",
        "Conseil municipal de Mamoudzou", O.en_cours, (L.municipal,), (EAU, SP), 55,
        decided_days=None,
    ),
    Shared(
        K.motion, "ahmed",
        "Motion contre les fermetures de classes à la rentrée",
        "Motion du conseil municipal contre la fermeture de quatre classes dans les écoles de "
        "la ville, alors que les effectifs restent chargés dans les quartiers prioritaires. "
        "Adoptée.",
        """## La motion

Le conseil municipal s'oppose aux fermetures de classes annoncées pour la rentrée dans quatre
écoles de la ville. Les effectifs par classe y restent au-dessus de la moyenne, dans des quartiers
où le dédoublement des classes de CP et de CE1 avait fait ses preuves.

Il demande à la direction académique :

- le maintien des postes d'enseignant·es dans les écoles concernées ;
- une concertation avec les parents, les enseignant·es et la ville avant toute mesure de carte
  scolaire ;
- la publication des effectifs prévisionnels école par école.

## Pour la reprendre

Demandez les effectifs prévisionnels à l'inspection de circonscription dès février : c'est sur eux
que se décide la carte scolaire.""",
        "Conseil municipal de Vénissieux", O.adopte, (L.municipal,), (ECOLES, SP), 100,
        reused_by=(("pierre_yves", "Votée à Besançon pour deux écoles du quartier de Planoise."),),
    ),
    Shared(
        K.motion, "maryse",
        "Motion de soutien aux soignant·es du centre hospitalier universitaire",
        "Motion de l'opposition départementale demandant des moyens d'urgence pour le CHU : "
        "recrutements, reconstruction, fin du recours massif à l'intérim. Rejetée.",
        """## La motion

Le conseil départemental apporte son soutien aux soignant·es du centre hospitalier universitaire,
qui travaillent depuis des années dans des locaux provisoires et en sous-effectif. Il demande à
l'État :

- un plan de recrutement de personnels soignants titulaires ;
- le respect du calendrier de reconstruction de l'hôpital ;
- la fin du recours massif à l'intérim, qui coûte cher et désorganise les services.

## Vote

Rejetée par la majorité, qui a jugé que la santé ne relevait pas de la compétence du département.
Nous la redéposerons avec un volet sur les centres de santé, qui relève de lui.""",
        "Conseil départemental de la Guadeloupe", O.rejete, (L.departemental,), (SANTE,), 150,
    ),
    Shared(
        K.motion, "sebastien",
        "Motion pour un tarif social de l'électricité et du gaz",
        "Motion du conseil régional demandant à l'État un tarif social de l'énergie pour les "
        "ménages modestes et un bouclier pour les collectivités, dont les factures ont pesé sur "
        "les budgets des lycées. Adoptée.",
        """## La motion

Le conseil régional demande à l'État :

- la création d'un tarif social de l'électricité et du gaz, attribué automatiquement aux ménages
  modestes ;
- le maintien d'un tarif réglementé accessible à toutes les collectivités, quelle que soit leur
  taille ;
- un soutien aux régions pour la rénovation énergétique des lycées, qui reste le meilleur moyen de
  baisser les factures.

## Pour la reprendre

Ajoutez le montant de la facture d'énergie de vos bâtiments sur les trois derniers exercices :
c'est l'argument qui porte le plus en séance.""",
        "Conseil régional d'Occitanie", O.adopte, (L.regional, L.departemental, L.municipal),
        (ENER, SP), 90,
    ),
    Shared(
        K.compte_rendu, "elise",
        "Compte-rendu de mandat d'une députée du Nord",
        "Un an de mandat en huit pages : les textes votés et combattus, les questions écrites, "
        "les permanences dans la circonscription et les dossiers suivis avec les élu·es locaux.",
        """## Ce qu'il contient

- les textes votés et combattus, expliqués en quelques lignes chacun ;
- les questions écrites posées au gouvernement et leurs réponses ;
- les permanences tenues dans les communes de la circonscription ;
- les dossiers suivis avec les maires et les conseillers municipaux du réseau.

## Pourquoi le partager

Le format tient sur huit pages et s'imprime facilement. Reprenez sa structure pour votre propre
compte-rendu : les habitant·es lisent d'abord les dossiers locaux, mettez-les en tête.""",
        "Assemblée nationale", None, (L.depute,), (DET, SP), 80, decided_days=3,
        files=("compte-rendu-de-mandat.pdf",),
    ),
    Shared(
        K.compte_rendu, "claire",
        "Compte-rendu de mandat : six ans d'opposition au conseil municipal",
        "Ce que six ans d'opposition au conseil municipal de Toulouse ont permis d'obtenir, "
        "ce qu'ils n'ont pas permis, et comment nous avons rendu compte aux habitant·es.",
        """## Ce que nous avons obtenu

- un tarif social dans les cantines, après trois ans de vœux et d'amendements ;
- la publication des rapports des délégataires de service public ;
- une commission d'accès aux documents ouverte à l'opposition.

## Ce que nous n'avons pas obtenu

La gratuité des transports, toujours refusée, mais qui a progressé dans le débat public.

## Comment nous avons rendu compte

Une réunion publique par an dans chaque quartier, une lettre imprimée, et ce document, que vous
pouvez reprendre.""",
        "Conseil municipal de Toulouse", None, (L.municipal,), (DEMO, TRANS), 230,
        decided_days=10,
        files=("compte-rendu-six-ans-opposition.odt",),
    ),
    Shared(
        K.compte_rendu, "lea",
        "Compte-rendu de mandat au Parlement européen : le travail détaché",
        "Une infographie et une synthèse sur ce que la révision de la directive sur le "
        "détachement des travailleurs a changé, et ce qui reste à obtenir.",
        """## Ce que la révision a changé

- l'égalité de rémunération sur un même lieu de travail, et non plus le seul salaire minimum ;
- une durée de détachement limitée, au-delà de laquelle tout le droit du travail du pays d'accueil
  s'applique ;
- l'application des conventions collectives étendues du pays d'accueil.

## Ce qui reste à obtenir

Des contrôles : ils dépendent des inspections nationales, qui manquent de moyens. Les clauses des
marchés publics locaux sont un complément précieux.""",
        "Parlement européen", None, (L.europeen, L.regional, L.departemental, L.municipal),
        (DET,), 190,
        files=("infographie-travail-detache.png",),
        poster=(
            "Travail détaché : ce qui a changé",
            "À travail égal, salaire égal sur le même lieu de travail",
            "Une durée de détachement limitée",
            "Les conventions collectives du pays d'accueil s'appliquent",
            "Reste à obtenir : des contrôles, et des inspecteurs",
        ),
    ),
    Shared(
        K.note_juridique, "karim",
        "Note juridique : du contrat de délégation à la régie de l'eau",
        "Les étapes et les pièges du retour en régie : fin ou résiliation du contrat, biens de "
        "retour, provisions pour renouvellement, reprise du personnel, statut de la régie, "
        "budget annexe.",
        """## Les étapes

1. **Connaître le contrat** : date d'échéance, inventaire des biens de retour, provisions pour
   renouvellement non dépensées.
2. **Comparer les modes de gestion** : une étude indépendante, présentée au conseil.
3. **Délibérer sur le principe** : au moins dix-huit mois avant l'échéance.
4. **Choisir la forme de la régie** : autonomie financière seule, ou personnalité morale et
   autonomie financière.
5. **Préparer la reprise du personnel** : le contrat de travail des salariés affectés au service
   est repris par la régie, qui gère un service public industriel et commercial.

## Les pièges

- Résilier avant l'échéance coûte une indemnité : mieux vaut préparer l'échéance.
- Les biens de retour reviennent gratuitement à la collectivité, mais leur état doit être constaté
  contradictoirement.
- Le budget annexe doit être équilibré par les redevances : le budget général ne peut pas le
  renflouer, sauf exceptions prévues par la loi.""",
        "", None, LOCAL, (EAU, SP), 250, decided_days=2,
        files=("note-juridique-retour-en-regie.pdf",),
        reused_by=(
            ("sebastien", "Transmise aux élu·es de notre groupe à la communauté urbaine."),
            ("serge", "Base de nos questions en commission de l'eau."),
            ("jordan", "Utilisée pour préparer le débat sur l'eau au Centre Littoral."),
        ),
    ),
    Shared(
        K.note_juridique, "karim",
        "Note juridique : bio et local dans les marchés de restauration scolaire",
        "Ce que l'on peut écrire dans un marché public de denrées pour favoriser le bio et les "
        "producteurs proches sans critère géographique, qui serait illégal : allotissement, "
        "labels, fraîcheur, circuits courts.",
        """## Ce que la loi impose

Au moins 50 % de produits durables et de qualité, dont 20 % de produits biologiques, dans la
restauration collective publique.

## Ce que l'on peut écrire

- **Allotir finement** : un lot par famille de produits, pour que les petits producteurs puissent
  répondre.
- **Exiger des labels** : agriculture biologique, label rouge, appellations d'origine.
- **Noter la fraîcheur et la saisonnalité**, les délais entre récolte et livraison, le nombre
  d'intermédiaires.
- **Réserver des lots** aux structures d'insertion ou aux entreprises adaptées, quand c'est
  pertinent.

## Ce que l'on ne peut pas écrire

Un critère « produit dans le département » : c'est une discrimination géographique, que le juge
annule.""",
        "", None, (L.municipal, L.intercommunal, L.departemental, L.regional),
        (BIO, MARCHES), 200, decided_days=3,
        files=("note-juridique-bio-local-marches.docx",),
        reused_by=(
            ("helene", "Transmise au service de la commande publique de Bègles."),
            ("ahmed", "Utilisée pour le renouvellement des marchés de la cuisine centrale."),
        ),
    ),
    Shared(
        K.note_juridique, "karim",
        "Note juridique : les droits des élu·es d'opposition",
        "Tribune dans le bulletin municipal, local de réunion, accès aux documents, questions "
        "orales, formation : ce que le code général des collectivités territoriales garantit "
        "aux élu·es d'opposition, et comment le faire respecter.",
        """## Ce que la loi garantit

- **Une tribune** dans le bulletin municipal et sur les supports d'information de la commune, dès
  1 000 habitants (article L. 2121-27-1 du CGCT) ; le règlement intérieur en fixe la place, qui
  doit être raisonnable.
- **Un local** pour se réunir, sur demande, dans les communes de plus de 1 000 habitants (article
  L. 2121-27).
- **L'information** sur les affaires soumises à délibération, avec la convocation.
- **Des questions orales** en séance, selon le règlement intérieur.
- **La formation** : le droit à la formation des élu·es s'applique à toutes et tous, majorité
  comme opposition.

## Le faire respecter

1. Demandez par écrit, en citant l'article.
2. Sans réponse, demandez la modification du règlement intérieur en séance.
3. En dernier recours, le tribunal administratif, qui annule régulièrement les règlements trop
   restrictifs.""",
        "", None, (L.municipal, L.intercommunal, L.departemental, L.regional), (DEMO,), 60,
        decided_days=1,
    ),
    Shared(
        K.outil_communication, "nadia",
        "Affiche « L'eau est un bien commun »",
        "Une affiche à imprimer pour une réunion publique sur le retour de l'eau en régie, et "
        "le texte d'un tract qui l'accompagne.",
        """## Le tract

**L'eau est un bien commun.** Ce n'est pas une marchandise : chaque euro de votre facture doit
servir au réseau, pas à rémunérer des actionnaires.

- Une régie publique réinvestit tout dans les canalisations.
- Les usagers siègent à son conseil d'administration.
- Les premiers mètres cubes, ceux de l'eau vitale, peuvent être gratuits.

**Réunion publique** : ajoutez ici la date, l'heure et le lieu.""",
        "Métropole de Lyon", None, LOCAL, (EAU,), 220, decided_days=None,
        files=("affiche-l-eau-est-un-bien-commun.png",),
        poster=(
            "L'eau est un bien commun",
            "Une régie publique réinvestit tout dans le réseau",
            "Les usagers siègent à son conseil",
            "Les premiers mètres cubes gratuits",
            "Réunion publique : date, heure, lieu",
        ),
        reused_by=(
            ("serge", "Imprimée pour notre réunion publique à Fort-de-France."),
            ("zainaba", "Utilisée pour une réunion de quartier à Mamoudzou."),
        ),
    ),
    Shared(
        K.outil_communication, "francois",
        "Lettre aux parents : la cantine passe au bio",
        "Un modèle de lettre aux familles pour annoncer le passage au bio et au végétarien à la "
        "cantine, répondre aux inquiétudes et inviter à une semaine de dégustation.",
        """Madame, Monsieur,

À partir de la rentrée, les repas servis à la cantine de votre enfant seront préparés avec
davantage de produits biologiques et de saison, dont une grande partie cultivée par des
producteurs proches de chez nous.

**Ce qui change**

- des légumes bio et de saison, cuisinés sur place ;
- un repas végétarien par semaine, équilibré et validé par une diététicienne ;
- moins de gaspillage : des portions servies à la demande.

**Ce qui ne change pas** : le prix du repas pour les familles.

Nous vous invitons à venir goûter les menus pendant la semaine de dégustation. Vos questions sont
les bienvenues.""",
        "Conseil municipal de Mouans-Sartoux", None, (L.municipal,), (BIO, ECOLES), 230,
        decided_days=None,
        reused_by=(
            ("helene", "Adaptée pour les écoles de Bègles."),
            ("laure", "Envoyée aux fédérations de parents de Strasbourg."),
        ),
    ),
    Shared(
        K.autre, "sylvie",
        "Modèle de tableau pour comparer le prix de l'eau",
        "Un tableur à remplir pour comparer le prix de l'eau de votre collectivité avec celui "
        "de collectivités voisines, à partir de leurs rapports annuels sur le prix et la "
        "qualité du service.",
        """## Mode d'emploi

1. Téléchargez les rapports annuels sur le prix et la qualité du service (RPQS) des collectivités
   à comparer : ils sont publics.
2. Reportez pour chacune le mode de gestion, la part fixe et la part variable pour une
   consommation de référence de 120 m³.
3. Le tableur calcule le prix au mètre cube toutes taxes comprises.

La ligne d'exemple est à remplacer.""",
        "", None, LOCAL, (EAU,), 90, decided_days=None,
        files=("comparatif-prix-de-l-eau.xlsx",),
        sheet=(
            ("Collectivité", "Mode de gestion", "Part fixe annuelle (€)",
             "Part variable (€/m³)", "Consommation de référence (m³)", "Prix au m³ (€)"),
            ("Exemple : votre collectivité", "Régie", 45, 2.1, 120,
             Formula("(C2+D2*E2)/E2", 2.475)),
        ),
    ),
    Shared(
        K.autre, "claire",
        "Charte du réseau des élu·es",
        "La charte que chaque membre accepte en rejoignant le réseau : ce que nous partageons, "
        "comment nous échangeons, ce qui reste entre nous.",
        """## 1. Ce que nous partageons

Nos délibérations, amendements, vœux, motions, comptes-rendus et outils, pour que chacun·e puisse
les reprendre chez soi.

## 2. Comment nous échangeons

Avec bienveillance et sur le fond : on critique une décision ou une politique, jamais une personne.

## 3. Ce qui reste entre nous

Les échanges de la liste de discussion et les demandes d'appui ne sont pas diffusés hors du
réseau. Aucune donnée personnelle n'y est publiée.

## 4. Le rôle de l'équipe d'animation

Elle accueille les nouveaux membres, veille au respect de la charte, peut masquer un message et,
après un rappel, exclure un membre qui ne la respecte pas. Chaque décision est motivée.""",
        "", None, EVERY_LEVEL, (RESEAU, DEMO), 325, decided_days=2,
        files=("charte-du-reseau-des-elu-es.pdf",),
    ),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The discussion list.


@dataclass(frozen=True)
class Said:
    author: str
    body: str
    quote: int | None = None  # the index of the quoted post in its thread
    hidden: str = ""  # the team's reason, for a hidden message


@dataclass(frozen=True)
class Talk:
    title: str
    theme: str
    level: MandateLevel | None
    days: float  # started this many days ago
    span: float  # its posts ran over this many days; 0: each as its author joined
    posts: tuple[Said, ...]


THREADS = (
    Talk(
        "Passer l'eau en régie publique : par où commencer ?", EAU, None, 115, 45,
        (
            Said("sebastien", "Bonjour à toutes et tous. À Perpignan, le contrat de délégation de "
                 "l'eau de la communauté urbaine arrive à échéance dans trois ans. Avec notre "
                 "groupe, nous voulons que le retour en régie soit débattu avant qu'on nous "
                 "présente un nouvel appel d'offres comme la seule option. Par où avez-vous "
                 "commencé ? Et combien de temps faut-il vraiment prévoir ?"),
            Said("sylvie", "Commencez par demander le rapport annuel du délégataire et "
                 "l'inventaire des biens de retour : vous y avez droit, et c'est souvent là "
                 "qu'on découvre que les provisions pour renouvellement n'ont pas été "
                 "dépensées. Ensuite, exigez une étude comparant les modes de gestion, par un "
                 "cabinet qui ne travaille pas pour les grands groupes de l'eau. Trois ans, "
                 "c'est juste mais faisable si la décision de principe est prise dans l'année."),
            Said("nadia", "Chez nous, deux ans ont séparé la délibération de principe du "
                 "démarrage de la régie, et ce n'était pas de trop. Le plus long a été la "
                 "reprise du personnel : chaque salarié du délégataire reçoit une proposition "
                 "de contrat, et les négociations prennent du temps. Anticipez aussi la "
                 "facturation : c'est le chantier qu'on sous-estime toujours."),
            Said("sebastien", "Merci Nadia. Les salariés repris gardent-ils leur convention "
                 "collective, ou changent-ils de statut ?", quote=2),
            Said("karim", "Pour une régie qui gère un service public industriel et commercial, "
                 "les salariés restent de droit privé : le contrat de travail est repris avec "
                 "ses clauses essentielles, la rémunération d'abord. La note juridique de la "
                 "bibliothèque détaille les étapes et les pièges, dont le sort des biens de "
                 "retour."),
            Said("maryse", "Une mise en garde depuis la Guadeloupe : changer de mode de gestion "
                 "ne répare pas les canalisations. Chez nous, une grande partie de l'eau "
                 "produite se perd dans le réseau. La régie est indispensable pour reprendre la "
                 "main, mais il faut un plan d'investissement chiffré dès le départ, sinon on "
                 "hérite des coupures et on en porte la responsabilité."),
            Said("serge", "Même constat en Martinique. J'ajoute : associez les usagers dès le "
                 "début, par un comité qui a accès aux chiffres. Quand les coupures continuent "
                 "les premiers mois, c'est ce qui évite que la régie porte seule trente ans de "
                 "sous-investissement.", quote=5),
            Said("sylvie", "Dernier conseil : profitez du changement pour voter une tarification "
                 "progressive, avec des premiers mètres cubes gratuits. La délibération de la "
                 "métropole est dans la bibliothèque, avec le simulateur."),
            Said("sebastien", "Merci à vous. Nous présentons un vœu au prochain conseil "
                 "communautaire pour demander l'étude comparative ; je vous dirai comment il a "
                 "été reçu."),
        ),
    ),
    Talk(
        "Cantines : 50 % de bio sans augmenter le prix du repas ?", BIO, L.municipal, 95, 30,
        (
            Said("helene", "À Bègles, nous sommes à 38 % de bio et nous visons 50 % d'ici deux "
                 "ans. La crainte de nos collègues de la majorité : le prix du repas. Comment "
                 "avez-vous tenu le coût des denrées ?"),
            Said("francois", "À Mouans-Sartoux, la cantine est entièrement bio depuis des années "
                 "et le coût des denrées n'a pas augmenté. Deux leviers : le gaspillage, que "
                 "nous avons fortement réduit en pesant les restes chaque jour et en servant "
                 "les portions à la demande, et une régie agricole municipale qui produit une "
                 "grande partie des légumes. Moins de viande, mais de meilleure qualité, fait "
                 "le reste."),
            Said("pierre_yves", "À Besançon nous n'avons pas de terres, alors nous avons "
                 "travaillé sur les marchés : des lots plus petits, par famille de produits, "
                 "pour que les producteurs du département puissent répondre. La note juridique "
                 "de la bibliothèque explique ce qu'on peut écrire dans un marché sans critère "
                 "géographique, qui serait illégal."),
            Said("helene", "Le repas végétarien, vous l'avez proposé chaque jour dès le "
                 "départ ?", quote=1),
            Said("francois", "Une fois par semaine au début, puis deux ; l'option quotidienne "
                 "est venue plus tard. Le plus important a été de former les cuisiniers : un "
                 "plat végétarien raté, et c'est toute la démarche que les enfants rejettent."),
            Said("ahmed", "À Vénissieux, la cuisine centrale est en régie, ce qui aide "
                 "beaucoup : on peut changer de fournisseurs sans attendre la fin d'un contrat "
                 "de délégation. Si votre restauration est déléguée, regardez la date "
                 "d'échéance avant tout."),
            Said("laure", "Pensez aussi aux parents : à Strasbourg, les réunions avec les "
                 "fédérations de parents et une semaine de dégustation ont fait tomber beaucoup "
                 "de résistances. La lettre aux parents de la bibliothèque est un bon point de "
                 "départ."),
            Said("helene", "Merci pour ces retours ! Je reviens vers vous après la commission "
                 "du mois prochain, avec notre plan de pesée des restes."),
        ),
    ),
    Talk(
        "Projet de loi de finances : une position commune sur les dotations", DOT, None, 70, 25,
        (
            Said("martine", "Le projet de loi de finances arrive au Sénat. Une fois encore, la "
                 "DGF progresse bien moins vite que les prix, et les communes les plus pauvres "
                 "paieront la contribution au redressement des comptes publics. Je propose que "
                 "nous défendions partout les trois mêmes demandes : l'indexation de la DGF "
                 "sur l'inflation, la hausse des dotations de solidarité urbaine et rurale, "
                 "l'abandon des prélèvements sur les recettes des collectivités."),
            Said("mathieu", "D'accord sur les trois. À Grigny, la dotation de solidarité urbaine "
                 "pèse lourd dans nos recettes de fonctionnement : chaque euro gelé, c'est un "
                 "animateur de moins dans les écoles. Il faut aussi dire que la péréquation ne "
                 "corrige qu'une petite partie des écarts de richesse entre communes."),
            Said("karim", "Le département de la Seine-Saint-Denis voit les mêmes effets sur les "
                 "allocations de solidarité, de moins en moins compensées par l'État. "
                 "Ajoutons une quatrième demande : la compensation intégrale du RSA."),
            Said("bruno", "Je cosigne, Martine. Je déposerai l'amendement sur la dotation de "
                 "solidarité urbaine en commission des finances ; envoyez-moi vos chiffres, "
                 "commune par commune, c'est ce qui porte en séance.", quote=0),
            Said("elise", "À l'Assemblée nous déposerons les mêmes amendements en première "
                 "lecture. Un vœu type que les conseils municipaux pourraient voter dans les "
                 "semaines qui viennent serait utile : les parlementaires ne doivent pas être "
                 "seuls à le porter."),
            Said("martine", "Bonne idée. J'ai déposé l'amendement sur l'indexation dans la "
                 "bibliothèque, avec son exposé des motifs : reprenez-le pour vos vœux."),
            Said("mathieu", "Le vœu passera au prochain conseil municipal de Grigny, je le "
                 "partagerai ensuite."),
        ),
    ),
    Talk(
        "Travail détaché sur nos chantiers : les clauses qui tiennent", DET, None, 60, 20,
        (
            Said("hugo", "À Saint-Nazaire, sur les chantiers navals comme sur ceux de la ville, "
                 "le détachement en cascade est devenu la règle. Nous voulons proposer des "
                 "clauses dans les marchés de la commune. Lesquelles ont tenu devant le juge "
                 "administratif chez vous ?"),
            Said("karim", "En Seine-Saint-Denis, nous avons fait adopter la présentation de tous "
                 "les sous-traitants, à tous les rangs, et l'exécution des tâches essentielles "
                 "par le titulaire. Le code de la commande publique prévoit les deux, elles "
                 "n'ont pas été attaquées. L'amendement est dans la bibliothèque."),
            Said("lea", "Au niveau européen, la directive révisée pose le principe « à travail "
                 "égal, salaire égal sur un même lieu de travail », mais son contrôle repose "
                 "sur les inspections nationales, qui manquent de moyens. Vos clauses locales "
                 "sont complémentaires : ce sont elles qui permettent de vérifier sur place."),
            Said("olivier", "Attention aux clauses qui imposent l'usage du français sur les "
                 "chantiers sans autre justification : quand elles visent en réalité à écarter "
                 "les travailleurs étrangers, le juge les annule. Mieux vaut des clauses qui "
                 "protègent les salariés, quelle que soit leur nationalité.", quote=1),
            Said("hugo", "C'est exactement notre position : il ne s'agit pas d'exclure qui que "
                 "ce soit, mais de faire respecter le droit du travail. Merci, je reprends "
                 "l'amendement de Karim."),
            Said("elise", "Je peux relayer par une question écrite au ministère du travail sur "
                 "les effectifs de l'inspection autour de Saint-Nazaire, si cela vous aide."),
        ),
    ),
    Talk(
        "Gratuité des transports : vos retours d'expérience", TRANS, L.intercommunal, 130, 60,
        (
            Said("claire", "À Toulouse, nous portons la gratuité du réseau dans l'opposition. "
                 "On nous répond toujours : « rien n'est gratuit, il faudra bien payer ». Qui "
                 "a des chiffres de fréquentation avant et après ?"),
            Said("damien", "À Dunkerque, la fréquentation a fortement augmenté dès la première "
                 "année de gratuité, et elle a continué ensuite. Surtout, elle a changé : des "
                 "jeunes, des personnes âgées, des familles qui ne prenaient jamais le bus. La "
                 "gratuité sans refonte du réseau n'aurait pas marché : il faut des bus "
                 "fréquents."),
            Said("claire", "Et le financement ? C'est là que la majorité nous attend.", quote=1),
            Said("damien", "Le versement mobilité des employeurs en paie l'essentiel, comme "
                 "avant. La billetterie ne couvrait qu'une petite part des dépenses, et une "
                 "partie de cette recette partait déjà dans les distributeurs et le contrôle. "
                 "La délibération est dans la bibliothèque."),
            Said("rachid", "À Marseille, le débat porte d'abord sur la gratuité pour les jeunes "
                 "et les personnes âgées. C'est une étape qui convainc, mais elle oblige à "
                 "garder toute la billetterie."),
            Said("olivier", "Pour les TER, c'est plus compliqué : la région paie déjà une grande "
                 "partie du coût et les trains sont pleins aux heures de pointe. Notre "
                 "amendement sur les moins de 26 ans a été rejeté, mais le débat a avancé."),
            Said("samuel", "Un regard européen : Tallinn a rendu ses transports gratuits pour "
                 "ses habitants depuis plus de dix ans. Les études montrent que sans hausse de "
                 "l'offre, les nouveaux voyageurs viennent surtout de la marche et du vélo. "
                 "D'où l'importance de ce que dit Damien sur la fréquence."),
            Said("nadia", "À Lyon, la métropole a choisi une tarification solidaire plutôt que "
                 "la gratuité totale : gratuit pour les plus modestes, réduit pour les autres. "
                 "Les deux approches ne s'opposent pas ; la première étape se vote plus "
                 "facilement."),
            Said("claire", "Merci, c'est précieux. Nous déposerons un vœu pour une étude de la "
                 "gratuité au prochain conseil, avec les chiffres de Dunkerque."),
        ),
    ),
    Talk(
        "Opposition : obtenir notre tribune dans le bulletin municipal", DEMO, L.municipal, 45,
        15,
        (
            Said("nathalie", "Le maire a réduit notre tribune dans le magazine municipal à 800 "
                 "signes et nous demande de la lui envoyer à relire « pour vérifier qu'elle ne "
                 "contient rien de diffamatoire ». En a-t-il le droit ?"),
            Said("karim", "Le droit d'expression de l'opposition est garanti par l'article "
                 "L. 2121-27-1 du code général des collectivités territoriales, dans les "
                 "communes de 1 000 habitants et plus. Le règlement intérieur fixe la place "
                 "accordée, qui doit être raisonnable ; le juge l'a rappelé plusieurs fois. Le "
                 "directeur de la publication peut refuser un texte diffamatoire, pas censurer "
                 "une opinion politique. La note juridique de la bibliothèque cite les règles "
                 "utiles."),
            Said("marie_ange", "Même situation à Ajaccio il y a quelques années. Nous avons "
                 "demandé la modification du règlement intérieur en séance, puis saisi le "
                 "tribunal administratif : la place a été rétablie.", quote=0),
            Said("hugo", "Pensez aussi au site internet de la ville et à ses réseaux sociaux : "
                 "si la commune y diffuse des informations sur ses réalisations, l'espace de "
                 "l'opposition s'y applique aussi."),
            Said("nathalie", "Merci ! Nous demandons la modification du règlement intérieur au "
                 "prochain conseil."),
            Said("zainaba", "Je découvre ces règles, merci. À Mamoudzou, l'opposition n'a jamais "
                 "eu de tribune dans le bulletin : je vais la demander."),
        ),
    ),
    Talk(
        "Élections régionales : préparer nos propositions communes", SP, L.regional, 50, 10,
        (
            Said("olivier", "Les prochaines élections régionales se préparent déjà. Je propose "
                 "que les élu·es régionaux du réseau travaillent à un socle commun : trains du "
                 "quotidien, lycées, formation professionnelle. Qui est partant ?"),
            Said("claire", "Partante. En Occitanie, nous pouvons apporter ce que nous avons "
                 "obtenu dans la majorité sur les trains à un euro et les transports "
                 "scolaires."),
            Said("sebastien", "Je prends la partie énergie : une région peut développer avec les "
                 "communes une production publique d'énergie renouvelable.", quote=1),
            Said("patricia", "Pour La Réunion et les autres régions d'outre-mer, il faudra un "
                 "volet spécifique : la continuité territoriale et le prix des billets d'avion "
                 "pèsent plus lourd que tout le reste."),
            Said("julien", "Même chose pour la Corse, qui a une assemblée et des compétences "
                 "particulières. Comptez sur moi pour le volet sur l'insularité."),
        ),
    ),
    Talk(
        "Encadrement des loyers : qui a candidaté ?", LOG, L.municipal, 35, 14,
        (
            Said("gael", "Rennes applique l'encadrement des loyers. D'autres villes du réseau "
                 "ont-elles candidaté, ou veulent le faire ? Je peux partager notre dossier et "
                 "les chiffres de l'observatoire local des loyers."),
            Said("fatou", "En Île-de-France, plusieurs territoires appliquent l'encadrement. Ce "
                 "qui manque, ce sont les contrôles : les locataires ne savent pas qu'ils "
                 "peuvent réclamer. Nous organisons des permanences avec les associations de "
                 "locataires."),
            Said("rachid", "À Marseille, la demande bute sur l'absence d'observatoire des loyers "
                 "agréé. C'est la première étape, et elle prend du temps : commencez par là."),
            Said("gael", "Très juste. À Rennes, la ville a ouvert un formulaire en ligne pour "
                 "signaler un loyer trop élevé, transmis ensuite à la préfecture.", quote=1),
            Said("bruno", "Au Sénat, l'avenir de l'encadrement revient à chaque texte sur le "
                 "logement. Vos retours concrets me sont utiles : envoyez-les-moi."),
        ),
    ),
    Talk(
        "Déserts médicaux : centre de santé municipal ou départemental ?", SANTE, None, 85, 35,
        (
            Said("aurelie", "Le Puy-de-Dôme vient de créer un centre départemental de santé avec "
                 "des médecins salariés. Beaucoup de communes nous demandent comment faire à "
                 "leur échelle. Centre municipal, intercommunal ou départemental : qu'est-ce "
                 "qui marche le mieux chez vous ?"),
            Said("julien", "En Corse, les communes rurales n'ont pas les moyens seules. "
                 "L'échelle intercommunale ou départementale est la seule qui permette de "
                 "recruter plusieurs médecins et d'assurer les remplacements."),
            Said("franck", "Chez nous, la médecin qui devait s'installer au centre s'est "
                 "désistée au dernier moment, après un an de travaux payés par la commune. Son "
                 "adresse est facile à trouver : allez lui dire ce que les habitants en "
                 "pensent.",
                 hidden="Il appelait à aller trouver chez elle une personne "
                 "nommément désignée. On peut critiquer une décision, jamais inciter à s'en "
                 "prendre à quelqu'un (charte du réseau, article 2)."),
            Said("marie_ange", "D'accord avec Julien. À Ajaccio, nous défendons un centre de "
                 "santé intercommunal, avec des antennes dans les villages de l'intérieur.",
                 quote=1),
            Said("patricia", "À La Réunion, la difficulté est d'abord de recruter : nous avons "
                 "proposé des bourses aux étudiant·es en médecine en échange de quelques années "
                 "d'exercice au centre."),
            Said("karim", "Un rappel de la charte : on critique une décision ou une politique, "
                 "jamais une personne. Un message a été masqué pour cette raison. Merci de "
                 "poursuivre l'échange sur le fond, il est précieux."),
            Said("serge", "En Martinique, un centre de santé communal a ouvert avec deux "
                 "médecins salariés. Ce qui les a décidés, c'est le travail en équipe avec des "
                 "infirmières et un secrétariat, plus que le salaire."),
            Said("aurelie", "Merci pour vos retours. La fiche de poste de nos recrutements est "
                 "dans la bibliothèque, avec la délibération."),
        ),
    ),
    Talk(
        "Conseils consulaires : nos moyens d'agir", SP, L.francais_etranger, 40, 12,
        (
            Said("julie", "Les conseillers des Français de l'étranger sont les élu·es les moins "
                 "connus du réseau ! À Montréal, nous suivons surtout les bourses scolaires, "
                 "l'aide sociale consulaire et l'accès aux services publics à distance. Quels "
                 "sont vos sujets ailleurs ?"),
            Said("antoine", "À Barcelone, ce sont les démarches en ligne : beaucoup de personnes "
                 "âgées n'arrivent pas à renouveler leurs papiers sans aide. Nous avons obtenu "
                 "des permanences du consulat dans deux villes éloignées."),
            Said("lea", "Pour celles et ceux qui vivent dans un autre pays de l'Union, comme à "
                 "Barcelone, je peux relayer vos remontées sur la coordination des régimes de "
                 "sécurité sociale : c'est un sujet européen.", quote=1),
        ),
    ),
    Talk(
        "Rénovation énergétique des écoles : quels financements ?", ENER, L.municipal, 25, 12,
        (
            Said("jeanne", "Brest doit rénover une vingtaine de groupes scolaires construits "
                 "dans les années soixante-dix. Quels financements avez-vous mobilisés pour la "
                 "rénovation énergétique de vos écoles ?"),
            Said("laure", "À Strasbourg : le fonds vert et la dotation de soutien à "
                 "l'investissement local, complétés par un emprunt de long terme auprès de la "
                 "Banque des territoires. Le plus efficace a été de regrouper plusieurs écoles "
                 "dans un même marché global de performance énergétique."),
            Said("sylvie", "À Grenoble, les économies de chauffage mesurées sur les premières "
                 "écoles rénovées ont convaincu de continuer. Pensez aussi à l'été : une école "
                 "bien isolée et végétalisée devient un refuge de fraîcheur."),
            Said("pierre_yves", "Le marché global de performance, nous l'avons fait à Besançon : "
                 "fixez bien les engagements de résultat, avec des pénalités si les économies "
                 "annoncées ne sont pas au rendez-vous.", quote=1),
            Said("samuel", "Côté européen, les fonds régionaux financent la rénovation des "
                 "bâtiments publics dans beaucoup de régions : demandez au service Europe de "
                 "votre région, les appels à projets restent peu connus des communes."),
        ),
    ),
    Talk(
        "Bienvenue ! Présentez-vous ici", RESEAU, None, 0, 0,
        (
            Said("claire", "Bienvenue dans le réseau des élu·es ! Cette discussion est faite "
                 "pour vous présenter : vos mandats, vos sujets, ce que vous aimeriez partager "
                 "ou trouver ici. La charte du réseau est dans la bibliothèque."),
            Said("karim", "Karim, vice-président du conseil départemental de la "
                 "Seine-Saint-Denis et adjoint à Montreuil. Je co-anime le réseau avec Claire : "
                 "écrivez-nous, et n'hésitez pas à demander un appui juridique ou technique."),
            Said("helene", "Hélène, adjointe à Bègles chargée de l'alimentation durable, et "
                 "conseillère métropolitaine. Je viens surtout pour les cantines !"),
            Said("mathieu", "Mathieu, maire de Grigny. Les dotations, la politique de la ville "
                 "et la présence des services publics sont mes combats de chaque jour."),
            Said("julie", "Julie, conseillère des Français de l'étranger à Montréal. Ravie de "
                 "rejoindre le réseau, même avec six heures de décalage !"),
            Said("damien", "Damien, conseiller municipal de Dunkerque et vice-président de la "
                 "communauté urbaine, aux transports. Je réponds volontiers à vos questions "
                 "sur la gratuité."),
            Said("hugo", "Hugo, conseiller municipal d'opposition à Saint-Nazaire. Élu depuis "
                 "peu, j'ai beaucoup à apprendre, en particulier sur la commande publique."),
            Said("jordan", "Jordan, conseiller municipal de Cayenne. Heureux de voir la Guyane "
                 "représentée : nos sujets sont l'eau, les transports et l'accès aux soins."),
            Said("zainaba", "Zaïnaba, conseillère municipale d'opposition à Mamoudzou. L'eau est "
                 "le sujet de tous les jours à Mayotte."),
            Said("manon", "Manon, conseillère municipale de Poitiers et vice-présidente de Grand "
                 "Poitiers chargée des mobilités. Ravie d'être parmi vous !"),
        ),
    ),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Support requests: each one's exchange, replayed through services.support's transitions.


@dataclass(frozen=True)
class Step:
    action: str  # "assign", "answer" (the team), "reply" (the requester), "close"
    body: str = ""
    by: str = ""  # who assigns or closes; the assignee answers


@dataclass(frozen=True)
class Ask:
    requester: str
    kind: SupportKind
    urgency: SupportUrgency
    subject: str
    details: str
    days: float  # asked this many days ago
    assignee: str | None
    steps: tuple[Step, ...]
    status: SupportStatus  # where the steps lead, checked
    file: tuple[str, str, str] | None = None  # (file name, title, text) joined when asked


SUPPORT = (
    Ask(
        "nathalie", SupportKind.juridique, SupportUrgency.tres_urgente,
        "Le maire refuse d'inscrire notre vœu à l'ordre du jour du conseil de lundi",
        "Nous avons déposé il y a dix jours un vœu pour le maintien du bureau de poste de "
        "notre quartier, repris de celui de Grigny. Le cabinet du maire nous répond qu'il ne "
        "sera pas inscrit à l'ordre du jour « faute de lien avec les compétences "
        "communales ». Le conseil se réunit lundi. Pouvons-nous contester, et comment, avant "
        "la séance ?",
        0.8, None, (), SupportStatus.open,
    ),
    Ask(
        "zainaba", SupportKind.technique, SupportUrgency.normale,
        "Filmer et diffuser les séances du conseil municipal",
        "La commune ne diffuse pas les séances du conseil municipal. Nous voudrions les filmer "
        "nous-mêmes, avec un téléphone et un micro, et les diffuser en direct. Quel matériel "
        "simple conseillez-vous, et faut-il prévenir le maire ?",
        3, None, (), SupportStatus.open,
    ),
    Ask(
        "julien", SupportKind.juridique, SupportUrgency.urgente,
        "La commune refuse de financer ma formation d'élu",
        "J'ai demandé à suivre une formation sur les finances locales, proposée par un "
        "organisme agréé. La commune refuse de la prendre en charge parce que je suis dans "
        "l'opposition. Le budget de formation des élu·es n'a pas été consommé l'an dernier. "
        "Quels sont mes droits ?",
        6, "karim",
        (
            Step("assign", by="karim"),
            Step("answer", "Bonjour Julien, je prends votre demande. Pouvez-vous m'envoyer le "
                 "courrier de refus, et la délibération sur la formation des élu·es si le "
                 "conseil en a voté une ? Je vous réponds d'ici vendredi."),
            Step("reply", "Merci Karim. Je n'ai qu'un courriel du directeur général des "
                 "services, je vous le transfère. Je ne trouve aucune délibération sur la "
                 "formation depuis le début du mandat."),
        ),
        SupportStatus.assigned,
    ),
    Ask(
        "gael", SupportKind.technique, SupportUrgency.normale,
        "Une carte interactive pour mon compte-rendu de mandat",
        "Je voudrais illustrer mon compte-rendu de mandat par une carte des projets suivis "
        "dans chaque quartier. Avez-vous un outil libre à conseiller, utilisable sans "
        "compétences techniques ?",
        12, "claire", (Step("assign", by="karim"),), SupportStatus.assigned,
    ),
    Ask(
        "hugo", SupportKind.juridique, SupportUrgency.urgente,
        "Marché de nettoyage des écoles : notre clause contre le travail détaché est-elle "
        "légale ?",
        "Nous voulons proposer, pour le renouvellement du marché de nettoyage des écoles, la "
        "clause jointe : présentation de tous les sous-traitants, contrôle des déclarations "
        "de détachement et pénalités. La majorité prétend qu'elle serait illégale. Pouvez-vous "
        "nous dire ce qui tient et ce qu'il faut retirer ?",
        9, "karim",
        (
            Step("assign", by="karim"),
            Step("answer", "Bonjour Hugo, j'ai relu votre projet avec la juriste de l'équipe. "
                 "Les trois premiers points sont solides : le code de la commande publique "
                 "impose la présentation des sous-traitants et permet d'exiger que les tâches "
                 "essentielles soient exécutées par le titulaire. Retirez en revanche la "
                 "phrase qui réserve le marché aux entreprises « employant du personnel "
                 "résidant dans la région » : c'est un critère géographique, que le juge "
                 "annulerait. Et exprimez la pénalité en montant par salarié non déclaré, "
                 "c'est plus simple à appliquer."),
            Step("reply", "Merci, c'est très clair. Je retire la phrase et je vous envoie la "
                 "version corrigée."),
            Step("answer", "La version corrigée nous convient. Bon conseil municipal !"),
        ),
        SupportStatus.answered,
        file=(
            "projet-clause-sociale-nettoyage.odt",
            "Projet de clause sociale : marché de nettoyage des écoles",
            """## Article 7 : sous-traitance

Le titulaire présente à l'acceptation de la commune chaque sous-traitant, à tous les rangs, avant
toute intervention. Les prestations de nettoyage des locaux scolaires sont des tâches essentielles
exécutées par le titulaire lui-même.

## Article 8 : salariés détachés

Le titulaire remet avant le début des prestations la copie des déclarations de détachement de
chaque salarié détaché. Le marché est réservé aux entreprises employant du personnel résidant dans
la région.

## Article 9 : pénalités

Tout salarié trouvé sur un site sans avoir été déclaré entraîne une pénalité.""",
        ),
    ),
    Ask(
        "manon", SupportKind.technique, SupportUrgency.tres_urgente,
        "Chiffrer la gratuité des bus avant le conseil communautaire de jeudi",
        "Le conseil communautaire de Grand Poitiers débat jeudi de la tarification des bus. Je "
        "voudrais présenter un chiffrage de la gratuité. Comment le construire rapidement à "
        "partir du rapport annuel de l'autorité organisatrice ?",
        4, "claire",
        (
            Step("answer", "Bonjour Manon, il vous faut trois chiffres du rapport annuel : les "
                 "recettes de billetterie, les dépenses de fonctionnement du réseau et le "
                 "produit du versement mobilité. Le coût brut de la gratuité, ce sont les "
                 "recettes perdues ; déduisez-en les frais de billetterie (distributeurs, "
                 "contrôle), que la délibération de Dunkerque détaille. Le tableur joint à "
                 "l'amendement sur les TER des Hauts-de-France peut servir de modèle. Je reste "
                 "joignable demain si besoin."),
        ),
        SupportStatus.answered,
    ),
    Ask(
        "fatou", SupportKind.juridique, SupportUrgency.normale,
        "Protection fonctionnelle après une plainte en diffamation",
        "Un promoteur a porté plainte contre moi en diffamation après mon intervention en "
        "conseil municipal sur un projet immobilier. Puis-je demander la protection "
        "fonctionnelle à la commune, alors que j'y suis adjointe ?",
        40, "karim",
        (
            Step("assign", by="karim"),
            Step("answer", "Bonjour Fatou. Oui : la commune doit protéger l'élu·e qui a reçu "
                 "une délégation et qui est poursuivi·e pour des faits liés à l'exercice de "
                 "ses fonctions (article L. 2123-34 du code général des collectivités "
                 "territoriales). La demande s'adresse au maire et le conseil municipal en "
                 "délibère ; la commune est assurée pour ces frais. Votre intervention en "
                 "séance est clairement liée à vos fonctions."),
            Step("reply", "Merci beaucoup. Le conseil a voté la protection hier soir, à "
                 "l'unanimité."),
            Step("close", "Très bonne nouvelle. Je clos la demande ; écrivez-nous de nouveau "
                 "pour la suite de la procédure si besoin.", by="karim"),
        ),
        SupportStatus.closed,
    ),
    Ask(
        "ahmed", SupportKind.technique, SupportUrgency.urgente,
        "Une adresse électronique d'élu indépendante de la mairie",
        "Le service informatique de la mairie a accès à ma messagerie d'adjoint. Je voudrais "
        "une adresse pour échanger avec les habitant·es et le réseau sans passer par la "
        "mairie. Que conseillez-vous ?",
        25, "claire",
        (
            Step("assign", by="claire"),
            Step("answer", "Bonjour Ahmed. Gardez l'adresse de la mairie pour ce qui relève de "
                 "votre délégation : ce sont des documents administratifs. Pour le reste, le "
                 "mouvement fournit aux élu·es une adresse sur son propre serveur ; je viens "
                 "de la demander pour vous, vous recevrez vos identifiants par SMS."),
            Step("close", "Reçu, tout fonctionne. Merci !", by="ahmed"),
        ),
        SupportStatus.closed,
    ),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Documents: small, real files of each kind the library accepts.

_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
_LINK = re.compile(r"\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")


def _plain(text: str) -> str:
    """Markdown emphasis removed: what a document shows."""
    return _LINK.sub("", text)


def blocks(markdown: str) -> list[tuple[str, str]]:
    """The Markdown body as (kind, text) blocks: "h" headings, "li" list items, "ol" numbered
    items (their number kept), "p" paragraphs (a quote or a table row is a paragraph). A line
    that starts nothing continues the block before it, as in Markdown."""
    out: list[tuple[str, str]] = []
    open_block = False  # whether the next plain line continues the last block
    for raw in markdown.splitlines():
        line = raw.strip()
        if not line or set(line) <= {"|", "-", " "}:
            open_block = False
            continue
        if line.startswith("#"):
            out.append(("h", _plain(line.lstrip("#").strip())))
            open_block = False
            continue
        if line.startswith(("- ", "* ")):
            out.append(("li", _plain(line[2:])))
        elif re.match(r"\d+\. ", line):
            out.append(("ol", _plain(line)))
        elif line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            out.append(("p", " : ".join(_plain(cell) for cell in cells)))
            open_block = False
            continue
        elif open_block:
            kind, text = out[-1]
            out[-1] = (kind, f"{text} {_plain(line.lstrip('> '))}")
        else:
            out.append(("p", _plain(line.lstrip("> "))))
        open_block = True
    return out


def _zip(entries: list[tuple[str, bytes]], moment: datetime) -> bytes:
    """A ZIP whose first entry is stored (an OpenDocument's `mimetype` must be), the others
    deflated, dated `moment` so that the same document makes the same bytes."""
    stamp = moment.astimezone(PARIS).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n, (name, data) in enumerate(entries):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if n == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


# PDF -------------------------------------------------------------------------------------------

_PDF_SUBSTITUTES = str.maketrans(
    {"\u202f": " ", "\xa0": " ", "≥": ">=", "≤": "<=", "³": "3", "→": "->", "−": "-"}
)


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (the fonts' encoding)."""
    data = text.translate(_PDF_SUBSTITUTES).encode("cp1252", "replace")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pdf_info_string(text: str) -> bytes:
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def pdf_document(title: str, subtitle: str, body: list[tuple[str, str]]) -> bytes:
    """An A4 PDF, Helvetica, pages as needed: the title, a subtitle and the blocks."""
    lines: list[tuple[str, int, str]] = []  # (font, size, text)
    for text in textwrap.wrap(title, 60):
        lines.append(("F2", 15, text))
    lines += [("F1", 10, text) for text in textwrap.wrap(subtitle, 95)] + [("F1", 10, "")]
    for kind, text in body:
        if kind == "h":
            lines += [("F1", 10, ""), ("F2", 12, text)]
        elif kind == "li":
            wrapped = textwrap.wrap(text, 88) or [""]
            lines.append(("F1", 10, "• " + wrapped[0]))
            lines += [("F1", 10, "   " + rest) for rest in wrapped[1:]]
        else:
            lines += [("F1", 10, text) for text in textwrap.wrap(text, 92)]
    per_page = 50
    pages = [lines[k : k + per_page] for k in range(0, len(lines), per_page)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title " + _pdf_info_string(title) + b" /Producer (Commun) >>",
    ]
    kids = []
    for n, page in enumerate(pages):
        ops = [b"BT", b"56 786 Td"]
        for font, size, text in page:
            ops.append(f"/{font} {size} Tf".encode() + b" " + _pdf_string(text) + b" Tj")
            ops.append(f"0 -{14 if size <= 10 else size + 5} Td".encode())
        ops += [b"ET", b"BT /F1 8 Tf 520 30 Td " + _pdf_string(f"{n + 1}/{len(pages)}") + b" Tj ET"]
        stream = b"\n".join(ops)
        content_number = len(objects) + 2
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
            + f"/Contents {content_number} 0 R >>".encode()
        )
        kids.append(f"{len(objects)} 0 R")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body_bytes in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body_bytes + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


# OpenDocument ------------------------------------------------------------------------------------

_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"'
)


def _odf(mimetype: str, body: str, title: str, moment: datetime) -> bytes:
    content = (
        f'{_XML}<office:document-content {_ODF_NS} office:version="1.3">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    meta = (
        f'{_XML}<office:document-meta {_ODF_NS} office:version="1.3"><office:meta>'
        f"<dc:title>{escape(title)}</dc:title><meta:creation-date>{stamp}</meta:creation-date>"
        "<meta:generator>Commun</meta:generator></office:meta></office:document-meta>"
    )
    manifest = (
        f"{_XML}<manifest:manifest "
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        f'manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return _zip(
        [
            ("mimetype", mimetype.encode()),
            ("content.xml", content.encode()),
            ("meta.xml", meta.encode()),
            ("META-INF/manifest.xml", manifest.encode()),
        ],
        moment,
    )


def odt_document(title: str, subtitle: str, body: list[tuple[str, str]], moment) -> bytes:
    parts = [
        f'<text:h text:outline-level="1">{escape(title)}</text:h>',
        f"<text:p>{escape(subtitle)}</text:p>",
    ]
    items: list[str] = []
    for kind, text in [*body, ("end", "")]:
        if kind != "li" and items:
            parts.append(f"<text:list>{''.join(items)}</text:list>")
            items = []
        if kind == "h":
            parts.append(f'<text:h text:outline-level="2">{escape(text)}</text:h>')
        elif kind == "li":
            items.append(f"<text:list-item><text:p>{escape(text)}</text:p></text:list-item>")
        elif kind in ("p", "ol"):
            parts.append(f"<text:p>{escape(text)}</text:p>")
    return _odf(
        "application/vnd.oasis.opendocument.text",
        f"<office:text>{''.join(parts)}</office:text>",
        title,
        moment,
    )


SHEET_NAME = "Tableau"  # no colon, slash or bracket: Excel refuses them in a sheet's name


def _column(n: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n]


def _ods_formula(formula: str) -> str:
    """An Excel-syntax formula in OpenFormula: [.B2] references, semicolons."""
    refs = re.sub(
        r"([A-Z]+[0-9]+)(?::([A-Z]+[0-9]+))?",
        lambda m: f"[.{m[1]}:.{m[2]}]" if m[2] else f"[.{m[1]}]",
        formula,
    )
    return "of:=" + refs.replace(",", ";")


def _french_number(value: float) -> str:
    text = f"{value:,.2f}" if value != int(value) else f"{int(value):,}"
    return text.replace(",", "\u202f").replace(".", ",")


def ods_document(title: str, rows: tuple[tuple, ...], moment) -> bytes:
    xml_rows = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, Formula):
                cells.append(
                    f"<table:table-cell table:formula={quoteattr(_ods_formula(value.text))} "
                    f'office:value-type="float" office:value="{value.value}">'
                    f"<text:p>{_french_number(value.value)}</text:p></table:table-cell>"
                )
            elif isinstance(value, int | float):
                cells.append(
                    f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{_french_number(value)}</text:p></table:table-cell>"
                )
            else:
                cells.append(
                    '<table:table-cell office:value-type="string">'
                    f"<text:p>{escape(value)}</text:p></table:table-cell>"
                )
        xml_rows.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    return _odf(
        "application/vnd.oasis.opendocument.spreadsheet",
        f'<office:spreadsheet><table:table table:name="{SHEET_NAME}">{"".join(xml_rows)}'
        "</table:table></office:spreadsheet>",
        title,
        moment,
    )


# Office Open XML -----------------------------------------------------------------------------

_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _content_types(overrides: dict[str, str]) -> bytes:
    items = "".join(
        f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides.items()
    )
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{items}</Types>'
    ).encode()


def _relationships(*targets: tuple[str, str]) -> bytes:
    items = "".join(
        f'<Relationship Id="rId{n}" Type="{_RELS}/{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, 1)
    )
    return f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">{items}</Relationships>'.encode()


def docx_document(title: str, subtitle: str, body: list[tuple[str, str]], moment) -> bytes:
    def paragraph(text: str, size: int = 22, bold: bool = False, space: int = 120) -> str:
        style = f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/></w:rPr>'
        return (
            f'<w:p><w:pPr><w:spacing w:after="{space}"/></w:pPr><w:r>{style}'
            f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
        )

    parts = [paragraph(title, 32, True, 240), paragraph(subtitle, 20, space=240)]
    for kind, text in body:
        if kind == "h":
            parts.append(paragraph(text, 26, True))
        elif kind == "li":
            parts.append(paragraph("• " + text))
        else:
            parts.append(paragraph(text))
    document = (
        f'{_XML}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
        f'main"><w:body>{"".join(parts)}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1417" w:right="1417" w:bottom="1417" w:left="1417" w:header="708" '
        'w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>'
    )
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return _zip(
        [
            ("[Content_Types].xml", _content_types({"/word/document.xml": main})),
            ("_rels/.rels", _relationships(("officeDocument", "word/document.xml"))),
            ("word/document.xml", document.encode()),
        ],
        moment,
    )


def xlsx_document(title: str, rows: tuple[tuple, ...], moment) -> bytes:
    xml_rows = []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_column(c)}{r}"
            if isinstance(value, Formula):
                cells.append(f'<c r="{ref}"><f>{escape(value.text)}</f><v>{value.value}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (
        f'{_XML}<worksheet xmlns="{main}"><sheetData>{"".join(xml_rows)}</sheetData></worksheet>'
    )
    workbook = (
        f'{_XML}<workbook xmlns="{main}" xmlns:r="{_RELS}"><sheets>'
        f'<sheet name="{SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return _zip(
        [
            (
                "[Content_Types].xml",
                _content_types(
                    {
                        "/xl/workbook.xml": f"{kind}.sheet.main+xml",
                        "/xl/worksheets/sheet1.xml": f"{kind}.worksheet+xml",
                    }
                ),
            ),
            ("_rels/.rels", _relationships(("officeDocument", "xl/workbook.xml"))),
            ("xl/workbook.xml", workbook.encode()),
            ("xl/_rels/workbook.xml.rels", _relationships(("worksheet", "worksheets/sheet1.xml"))),
            ("xl/worksheets/sheet1.xml", sheet.encode()),
        ],
        moment,
    )


# PNG -------------------------------------------------------------------------------------------

_FONT_FILES = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf", "Arial.ttf")


def _font(size: int):
    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def png_poster(headline: str, lines: tuple[str, ...], seed: str) -> bytes:
    """A poster: the headline, then each line in a band, on the movement's colours."""
    rng = random.Random(seed)
    width, height = 540, 760
    image = Image.new("RGB", (width, height), (22, 74, 128))
    draw = ImageDraw.Draw(image)
    for _ in range(10):  # drops of colour in the background
        x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(25, 80)
        shade = rng.choice([(35, 98, 160), (30, 88, 148), (46, 112, 176)])
        draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
    big, small = _font(38), _font(21)
    y = 50
    for line in _wrapped(draw, headline, big, width - 80):
        draw.text((40, y), line, font=big, fill=(255, 255, 255))
        y += 48
    y += 22
    for line in lines:
        wrapped = _wrapped(draw, line, small, width - 110)
        band = 18 + 27 * len(wrapped)
        draw.rounded_rectangle((40, y, width - 40, y + band), radius=10, fill=(250, 204, 64))
        for k, text in enumerate(wrapped):
            draw.text((55, y + 10 + 27 * k), text, font=small, fill=(22, 40, 70))
        y += band + 16
    if y > height - 60:
        raise ValueError(f"the poster {headline!r} does not fit")
    draw.text((40, height - 46), "Réseau des élu·es", font=small, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # the upload processing compresses it
    return buffer.getvalue()


def document_bytes(
    filename: str,
    title: str,
    subtitle: str,
    body: str,
    moment: datetime,
    sheet: tuple[tuple, ...] = (),
    poster: tuple[str, ...] = (),
) -> bytes:
    """The file of that name (its extension says which kind) for a text in Markdown."""
    extension = filename.rpartition(".")[2]
    if extension == "pdf":
        return pdf_document(title, subtitle, blocks(body))
    if extension == "odt":
        return odt_document(title, subtitle, blocks(body), moment)
    if extension == "docx":
        return docx_document(title, subtitle, blocks(body), moment)
    if extension == "ods":
        return ods_document(title, sheet, moment)
    if extension == "xlsx":
        return xlsx_document(title, sheet, moment)
    if extension == "png":
        return png_poster(poster[0], poster[1:], f"{SEED}-{filename}")
    raise ValueError(f"no demo document of kind {extension!r}")


# ---------------------------------------------------------------------------------------------
# Loading.


# When elected officials apply, post and answer: from 8 a.m. to 10 p.m., Paris time.
WAKING_FROM, WAKING_TO = 8, 22


def waking(moment: datetime, later: bool = False) -> datetime:
    """The moment, or if it falls at night (Paris time) as many hours earlier as the night
    lasts, in the afternoon or evening before (or, `later`, that much later, in the morning
    after): only what must follow a fixed moment moves forward."""
    local = moment.astimezone(PARIS)
    if WAKING_FROM <= local.hour < WAKING_TO:
        return moment
    night = timedelta(hours=24 - WAKING_TO + WAKING_FROM)
    return (local + night if later else local - night).astimezone(UTC)


def in_order(times: list[datetime], gap: timedelta = timedelta(minutes=7)) -> list[datetime]:
    """The moments, each at least `gap` after the one before."""
    out: list[datetime] = []
    for moment in times:
        out.append(max([moment, *(t + gap for t in out[-1:])]))
    return out


def _paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=PARIS).astimezone(UTC)


def _support_state(request_id: int, status: SupportStatus, assignee_id: int | None) -> str:
    """As services.support records a request's state in its audit entries."""
    return f"request={request_id};status={status.value};assignee={assignee_id or ''}"


@dataclass
class _Member:
    spec: Elected
    person: Person
    applied_at: datetime
    decided_at: datetime | None = None
    until: datetime | None = None  # excluded then
    row: NetworkMember | None = None


class NetworkDemo:
    """The network stage: `load` writes it in its own write transaction; `delete_rows` (in the
    caller's transaction) and `remove_files` take it back."""

    def __init__(self, now: datetime, password_hash: str, emails, accounts: dict[str, str]):
        self.now = now
        self.password_hash = password_hash
        self.emails = emails  # demo_data's generator of unique demo addresses
        self.accounts = accounts  # demo account key -> e-mail
        self.written: dict[str, list[int]] = {}
        self.paths: list[Path] = []
        self.step = ""  # the file being stored, for the error message

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def load(self) -> tuple[list[str], list[str]]:
        """Write the network; (what was loaded, what to try), for the command's summary."""
        try:
            with write_transaction():
                return self._load()
        except BaseException:
            self.remove_files()
            self.written = {}
            raise

    def failed_step(self) -> str:
        where = f" (fichier « {self.step} »)" if self.step else ""
        return f"l'ajout du réseau des élu·es de démonstration a échoué{where}"

    def remove_files(self) -> None:
        documents.remove_document_files(self.paths)
        self.paths = []

    def delete_rows(self) -> None:
        """Delete what `load` wrote, in the caller's transaction (the demo's undo)."""
        ids = self.written
        if not ids:
            return
        for table, column, key in (
            (Subscription.__table__, "thread_id", "thread"),
            (Subscription.__table__, "person_id", "people"),
            (PostNotification.__table__, "person_id", "people"),
            (Post.__table__, "thread_id", "thread"),
            (Thread.__table__, "id", "thread"),
            (ResourceReuse.__table__, "resource_id", "resource"),
            (ResourceFile.__table__, "resource_id", "resource"),
            (ResourceLevel.__table__, "resource_id", "resource"),
            (resource_theme, "resource_id", "resource"),
            (Resource.__table__, "id", "resource"),
            (SupportFile.__table__, "request_id", "support"),
            (SupportMessage.__table__, "request_id", "support"),
            (SupportRequest.__table__, "id", "support"),
            (network_member_theme, "member_id", "member"),
            (NetworkMember.__table__, "id", "member"),
            (Mandate.__table__, "person_id", "people"),
            (NetworkTeamEntry.__table__, "id", "team"),
            (AuditEntry.__table__, "id", "audit"),
            (NetworkTheme.__table__, "id", "theme"),
            (Person.__table__, "id", "person"),
        ):
            db.session.execute(delete(table).where(table.c[column].in_(ids[key])))

    # The rows ---------------------------------------------------------------------------------

    def _load(self) -> tuple[list[str], list[str]]:
        session, rng = db.session, random.Random(SEED)
        config = current_app.config
        root, max_bytes = config["UPLOADS_PATH"], config["NETWORK_FILE_MAX_BYTES"]
        today = _paris_day(self.now)
        by_email = {
            p.email: p
            for p in session.scalars(select(Person).where(Person.email.in_(self.accounts.values())))
        }
        admin = by_email[self.accounts["admin"]]

        # People and themes.
        created: list[Person] = []
        members: dict[str, _Member] = {}
        for spec in ELECTED:
            applied_at = waking(self.ago(days=spec.days, hours=rng.uniform(0, 10)))
            if spec.account:
                person = by_email[self.accounts[spec.account]]
                if spec.team and not person.is_network:
                    raise RuntimeError(f"the demo account {spec.account!r} is not network staff")
            else:
                person = Person(
                    email=self.emails(spec.first, spec.last),
                    display_name=f"{spec.first} {spec.last}",
                    password_hash=self.password_hash,
                    created_at=waking(applied_at - timedelta(days=rng.uniform(20, 400))),
                    is_network=spec.team,
                )
                created.append(person)
            members[spec.key] = _Member(spec, person, applied_at)
        themes = {name: NetworkTheme(name=name, key=theme_key(name)) for name in THEMES}
        session.add_all(created)
        session.add_all(themes.values())
        session.flush()
        leads = {m.spec.key: m.person for m in members.values() if m.person.is_network}
        if set(leads) != {"claire", "karim"}:
            raise RuntimeError("the demo network has two animators, its co-leads")

        # Decisions: the two co-leads were let in by the admin when the network opened; the
        # team decides on the others a day or a few after they applied.
        audits: list[AuditEntry] = []
        for n, m in enumerate(members.values()):
            spec = m.spec
            audits.append(
                self._audit(m.applied_at, m.person, "network.apply", m.person.id, new="pending")
            )
            decider, reason = None, ""
            if spec.status != NetworkStatus.pending:
                accepted = spec.status in (NetworkStatus.member, NetworkStatus.excluded)
                decider = admin if spec.key in leads else list(leads.values())[n % 2]
                if spec.key in leads:
                    delay = timedelta(hours=2, minutes=10 * n)
                else:
                    delay = timedelta(hours=rng.uniform(4, 40))
                m.decided_at = waking(m.applied_at + delay, later=True)
                reason = "" if accepted else spec.reason
                audits.append(
                    self._audit(
                        m.decided_at,
                        decider,
                        "network.accept" if accepted else "network.decline",
                        m.person.id,
                        old="pending",
                        new="member" if accepted else "declined",
                        reason=reason,
                    )
                )
            decided_at = m.decided_at
            if spec.status == NetworkStatus.excluded:
                m.until = waking(self.ago(days=spec.excluded_days, hours=rng.uniform(1, 6)))
                decider, reason, decided_at = leads["karim"], spec.reason, m.until
                audits.append(
                    self._audit(
                        m.until,
                        decider,
                        "network.exclude",
                        m.person.id,
                        old="member",
                        new="excluded",
                        reason=reason,
                    )
                )
            # The row says where things stand now; the audit log keeps each decision.
            m.row = NetworkMember(
                person_id=m.person.id,
                status=spec.status,
                motivation=spec.motivation,
                presentation=spec.presentation,
                departement=spec.departement,
                applied_at=m.applied_at,
                decided_at=decided_at,
                decided_by_id=decider.id if decider else None,
                decision_reason=reason,
                notify_mode=NotifyMode.daily if spec.daily else NotifyMode.immediate,
                digest_sent_at=None,  # set once the posts are known
            )

        # Mandates, with the rules services.network keeps.
        mandate_rows = []
        for m in members.values():
            spans = []
            for term in m.spec.mandates:
                if term.role not in ROLES_BY_LEVEL[term.level]:
                    raise RuntimeError(f"{m.spec.key}: {term.level} has no role {term.role}")
                if term.starts_on is not None:
                    starts_on, ends_on = term.starts_on, term.ends_on
                else:
                    starts_on, ends_on = term_dates(
                        term.calendar or term.level.value, term.back, today
                    )
                key = theme_key(term.council)
                for level, other_key, other_start, other_end in spans:
                    # Both ends inclusive, no end running forever (services.network's rule).
                    meet = (other_end is None or other_end >= starts_on) and (
                        ends_on is None or ends_on >= other_start
                    )
                    if (level, other_key) == (term.level, key) and meet:
                        raise RuntimeError(f"{m.spec.key}: two overlapping mandates on {key}")
                spans.append((term.level, key, starts_on, ends_on))
                departement = (
                    None if term.level in (L.europeen, L.francais_etranger) else m.spec.departement
                )
                # Declared when applying, or a few days after it began for a later one.
                declared = m.applied_at - timedelta(minutes=20)
                if _noon(starts_on) > declared:
                    declared = waking(_noon(starts_on) + timedelta(days=rng.uniform(2, 12)))
                mandate_rows.append(
                    {
                        "person_id": m.person.id,
                        "level": term.level,
                        "council": term.council,
                        "council_key": key,
                        "departement": departement,
                        "role": term.role,
                        "side": term.side,
                        "starts_on": starts_on,
                        "ends_on": ends_on,
                        "created_at": min(declared, self.ago(hours=2)),
                    }
                )
            day = _paris_day(m.applied_at)
            holding = [s for _, _, s, e in spans if s <= day and (e is None or e >= day)]
            if not holding and m.spec.status != NetworkStatus.declined:
                raise RuntimeError(f"{m.spec.key} applied to the network without a mandate")

        # The public page's team.
        team_rows = [
            NetworkTeamEntry(
                person_id=members[key].person.id if key else None,
                display_name=members[key].person.display_name if key else name,
                role=role,
                description=description,
                position=position,
            )
            for position, (key, name, role, description) in enumerate(TEAM, 1)
        ]

        def member_at(key: str, moment: datetime, what: str) -> Person:
            """The member, checked to be one at that moment."""
            m = members[key]
            if m.decided_at is None or m.spec.status == NetworkStatus.declined:
                raise RuntimeError(f"{what}: {key} is not a member of the network")
            if not (m.decided_at < moment <= (m.until or self.now)):
                raise RuntimeError(f"{what}: {key} was not a member on {moment:%Y-%m-%d}")
            return m.person

        # Resources.
        resources: list[tuple[Shared, Resource]] = []
        for spec in RESOURCES:
            at = waking(self.ago(days=spec.days, hours=rng.uniform(0, 9)))
            author = member_at(spec.author, at, spec.title)
            if (spec.kind in (K.amendement, K.deliberation, K.voeu, K.motion)) != (
                spec.outcome is not None
            ):
                raise RuntimeError(f"{spec.title}: only decisions of a council have an outcome")
            council_dep = next(
                (
                    row["departement"]
                    for row in mandate_rows
                    if row["person_id"] == author.id and row["council"] == spec.council
                ),
                members[spec.author].spec.departement,
            )
            resource = Resource(
                author_id=author.id,
                kind=spec.kind,
                title=spec.title,
                summary=spec.summary,
                body=spec.body,
                council=spec.council,
                departement=council_dep if spec.council else None,
                decided_on=(
                    None
                    if spec.decided_days is None
                    else _paris_day(at - timedelta(days=spec.decided_days))
                ),
                outcome=spec.outcome,
                reuse_count=len(spec.reused_by),
                created_at=at,
                updated_at=at,
                updated_by_id=author.id,
            )
            names = [name for name in THEMES if name in spec.themes]
            resource.search_text = search_text_of(resource, names)
            resources.append((spec, resource))

        # Threads.
        threads: list[tuple[Talk, Thread, list[datetime]]] = []
        for talk in THREADS:
            if talk.span:
                start = self.ago(days=talk.days, hours=rng.uniform(0, 6))
                end = start + timedelta(days=talk.span)
                gap = (end - start) / len(talk.posts)
                times = in_order(
                    [
                        waking(start + gap * (k + (0 if k == 0 else rng.uniform(0.2, 0.9))))
                        for k in range(len(talk.posts))
                    ]
                )
            else:  # each as its author joined
                times = in_order(
                    [
                        waking(
                            members[said.author].decided_at + timedelta(hours=rng.uniform(1, 20)),
                            later=True,
                        )
                        for said in talk.posts
                    ],
                    timedelta(minutes=25),
                )
            if times != sorted(times) or times[-1] > self.ago(hours=1):
                raise RuntimeError(f"the posts of {talk.title!r} are not in order in the past")
            visible = [t for t, said in zip(times, talk.posts, strict=True) if not said.hidden]
            thread = Thread(
                title=talk.title,
                author_id=member_at(talk.posts[0].author, times[0], talk.title).id,
                theme_id=themes[talk.theme].id,
                level=talk.level,
                created_at=times[0],
                last_post_at=visible[-1],
                post_count=len(visible),
            )
            threads.append((talk, thread, times))

        # Support requests.
        requests: list[tuple[Ask, SupportRequest]] = []
        for ask in SUPPORT:
            at = waking(self.ago(days=ask.days))
            request = SupportRequest(
                requester_id=member_at(ask.requester, at, ask.subject).id,
                kind=ask.kind,
                urgency=ask.urgency,
                subject=ask.subject,
                details=ask.details,
                status=SupportStatus.open,
                assignee_id=None,
                created_at=at,
                updated_at=at,
                closed_at=None,
                closed_by_id=None,
            )
            requests.append((ask, request))

        rows = [m.row for m in members.values()]
        session.add_all(rows)
        session.add_all(team_rows)
        session.add_all(r for _, r in resources)
        session.add_all(t for _, t, _ in threads)
        session.add_all(r for _, r in requests)
        session.flush()

        # Members' themes, their mandates, the resources' levels, themes and reuses.
        member_themes = [
            {"member_id": m.row.id, "theme_id": themes[name].id}
            for m in members.values()
            for name in m.spec.themes
        ]
        levels, resource_themes, reuses = [], [], []
        for spec, resource in resources:
            levels += [{"resource_id": resource.id, "level": level} for level in spec.levels]
            resource_themes += [
                {"resource_id": resource.id, "theme_id": themes[name].id} for name in spec.themes
            ]
            for key, note in spec.reused_by:
                at = waking(
                    max(
                        resource.created_at + timedelta(days=rng.uniform(2, 20)),
                        members[key].decided_at + timedelta(days=rng.uniform(1, 5)),
                    )
                )
                if key == spec.author or at > self.ago(hours=2):
                    raise RuntimeError(f"{spec.title}: {key} cannot have reused it")
                reuses.append(
                    {
                        "resource_id": resource.id,
                        "person_id": member_at(key, at, spec.title).id,
                        "note": note,
                        "created_at": at,
                    }
                )

        # The files, generated, checked and stored as an upload is.
        resource_files = []
        for spec, resource in resources:
            subtitle = " · ".join(
                part
                for part in (
                    spec.council,
                    resource.decided_on.strftime("%d/%m/%Y") if resource.decided_on else "",
                )
                if part
            )
            for filename in spec.files:
                self.step = filename
                data = document_bytes(
                    filename,
                    spec.title,
                    subtitle or spec.summary,
                    spec.body,
                    resource.created_at,
                    spec.sheet,
                    spec.poster,
                )
                checked = documents.check_document(filename, data, max_bytes)
                stored_name, paths = documents.store_document(root, checked, "library")
                self.paths += paths
                resource_files.append(
                    {
                        "resource_id": resource.id,
                        "uploaded_by_id": resource.author_id,
                        "stored_name": stored_name,
                        "display_name": checked.display_name,
                        "content_type": checked.content_type,
                        "size": checked.size,
                        "sha256": checked.sha256,
                        "created_at": resource.created_at,
                    }
                )

        # Posts, the hidden one with its reason, and who follows what.
        posts: list[tuple[Said, Post, Thread]] = []
        follows: dict[tuple[int, int], datetime] = {}  # (person, thread) -> since
        for talk, thread, times in threads:
            for said, at in zip(talk.posts, times, strict=True):
                author = member_at(said.author, at, talk.title)
                post = Post(
                    thread_id=thread.id,
                    author_id=author.id,
                    body=said.body,
                    quoted_post_id=None,
                    created_at=at,
                    hidden_at=None,
                    hidden_by_id=None,
                    hidden_reason="",
                )
                if said.hidden:
                    post.hidden_at = waking(at + timedelta(hours=rng.uniform(1, 5)), later=True)
                    post.hidden_by_id = leads["karim"].id
                    post.hidden_reason = said.hidden
                posts.append((said, post, thread))
                follows.setdefault((author.id, thread.id), at)
        session.add_all(post for _, post, _ in posts)
        session.flush()
        start = 0
        for talk, thread, _times in threads:
            mine = posts[start : start + len(talk.posts)]
            for n, (said, post, _) in enumerate(mine):
                if said.quote is not None:
                    quoted_said, quoted, _ = mine[said.quote]
                    if said.quote >= n or quoted_said.hidden:
                        raise RuntimeError(f"{talk.title!r} quotes a later or hidden message")
                    post.quoted_post_id = quoted.id
                if said.hidden:
                    audits.append(
                        self._audit(
                            post.hidden_at,
                            leads["karim"],
                            "post.hide",
                            post.author_id,
                            new=f"post {post.id}, thread {thread.id}",
                            reason=said.hidden,
                        )
                    )
            start += len(talk.posts)
        if sum(1 for said, _, _ in posts if said.hidden) != 1:
            raise RuntimeError("the demo discussions have one hidden message")
        subscriptions = [
            {"person_id": person_id, "thread_id": thread_id, "theme_id": None, "created_at": at}
            for (person_id, thread_id), at in follows.items()
        ]
        for name, keys in THEME_FOLLOWERS.items():
            for key in keys:
                at = waking(
                    members[key].decided_at + timedelta(hours=rng.uniform(2, 72)), later=True
                )
                subscriptions.append(
                    {
                        "person_id": member_at(key, at, name).id,
                        "thread_id": None,
                        "theme_id": themes[name].id,
                        "created_at": at,
                    }
                )

        # Daily digests: each went out at 7 a.m. (Paris) after the last message that those
        # members were to be told about; none is owed now.
        since = {
            (row["person_id"], row["thread_id"], row["theme_id"]): row["created_at"]
            for row in subscriptions
        }
        for m in members.values():
            if m.row.notify_mode != NotifyMode.daily:
                continue
            told = [
                post.created_at
                for _, post, thread in posts
                if post.hidden_at is None
                and post.author_id != m.person.id
                and any(
                    at < post.created_at
                    for key in (
                        (m.person.id, thread.id, None),
                        (m.person.id, None, thread.theme_id),
                    )
                    if (at := since.get(key)) is not None
                )
            ]
            if told:
                local = max(told).astimezone(PARIS)
                seven = datetime.combine(local.date(), time(7), tzinfo=PARIS)
                if seven <= local:
                    seven += timedelta(days=1)
                if seven > self.now:
                    raise RuntimeError(f"a digest would be owed to {m.spec.key}")
                m.row.digest_sent_at = seven.astimezone(UTC)

        # Support exchanges, through the services' transitions, each audited.
        messages, support_files = [], []
        for ask, request in requests:
            requester = members[ask.requester].person
            audits.append(
                self._audit(
                    request.created_at,
                    requester,
                    "support.create",
                    requester.id,
                    new=_support_state(request.id, SupportStatus.open, None),
                )
            )
            if ask.file is not None:
                filename, title, text = ask.file
                self.step = filename
                data = document_bytes(filename, title, ask.subject, text, request.created_at)
                checked = documents.check_document(filename, data, max_bytes)
                stored_name, paths = documents.store_document(root, checked, "support")
                self.paths += paths
                support_files.append(
                    {
                        "request_id": request.id,
                        "message_id": None,
                        "uploaded_by_id": requester.id,
                        "stored_name": stored_name,
                        "display_name": checked.display_name,
                        "content_type": checked.content_type,
                        "size": checked.size,
                        "sha256": checked.sha256,
                        "created_at": request.created_at,
                    }
                )
            span = timedelta(days=ask.days) * 0.85
            moments = in_order(
                [
                    waking(
                        request.created_at + span * (k + rng.uniform(0.3, 0.9)) / len(ask.steps),
                        later=True,
                    )
                    for k in range(len(ask.steps))
                ]
            )
            assignee = members[ask.assignee].person if ask.assignee else None
            for step, at in zip(ask.steps, moments, strict=True):
                before = _support_state(request.id, request.status, request.assignee_id)
                if step.action == "assign":
                    actor = members[step.by].person
                    request.assignee_id = assignee.id
                    request.status = SupportStatus.assigned
                elif step.action == "answer":
                    actor = assignee
                    messages.append((request, actor, True, step.body, at))
                    request.assignee_id = request.assignee_id or assignee.id
                    request.status = SupportStatus.answered
                elif step.action == "reply":
                    actor = requester
                    messages.append((request, actor, False, step.body, at))
                    request.status = (
                        SupportStatus.assigned if request.assignee_id else SupportStatus.open
                    )
                else:
                    actor = members[step.by].person
                    if step.body:
                        messages.append((request, actor, actor.id != requester.id, step.body, at))
                    request.status = SupportStatus.closed
                    request.closed_at, request.closed_by_id = at, actor.id
                if not actor.is_network and step.action in ("assign", "answer"):
                    raise RuntimeError(f"{ask.subject}: {step.action} by someone not in the team")
                request.updated_at = at
                action = f"support.{step.action}"
                audits.append(
                    self._audit(
                        at,
                        actor,
                        action,
                        requester.id,
                        old=before,
                        new=_support_state(request.id, request.status, request.assignee_id),
                    )
                )
            if request.status != ask.status or request.updated_at > self.ago(hours=1):
                raise RuntimeError(f"the exchange of {ask.subject!r} does not lead to {ask.status}")
        message_rows = [
            {
                "request_id": request.id,
                "author_id": author.id,
                "from_team": from_team,
                "body": body,
                "created_at": at,
            }
            for request, author, from_team, body, at in messages
        ]

        for model, values in (
            (network_member_theme, member_themes),
            (Mandate.__table__, mandate_rows),
            (ResourceLevel.__table__, levels),
            (resource_theme, resource_themes),
            (ResourceReuse.__table__, reuses),
            (ResourceFile.__table__, resource_files),
            (Subscription.__table__, subscriptions),
            (SupportMessage.__table__, message_rows),
            (SupportFile.__table__, support_files),
        ):
            if values:
                session.execute(model.insert(), values)
        session.add_all(audits)
        session.flush()
        self.step = ""

        everyone = [m.person.id for m in members.values()]
        self.written = {
            "person": [p.id for p in created],
            "people": everyone,
            "member": [m.row.id for m in members.values()],
            "theme": [t.id for t in themes.values()],
            "team": [t.id for t in team_rows],
            "resource": [r.id for _, r in resources],
            "thread": [t.id for _, t, _ in threads],
            "support": [r.id for _, r in requests],
            "audit": [a.id for a in audits],
        }
        return self._summary(members, mandate_rows, resources, resource_files, posts, requests)

    @staticmethod
    def _audit(
        at,
        actor: Person,
        action: str,
        person_id: int | None,
        old: str = "",
        new: str = "",
        reason: str = "",
    ) -> AuditEntry:
        # Every column given, so that the rows are inserted in one batch.
        return AuditEntry(
            at=at,
            actor_id=actor.id,
            action=action,
            group_id=None,
            proposal_id=None,
            person_id=person_id,
            round_id=None,
            old_value=old,
            new_value=new,
            reason=reason,
        )

    def _summary(self, members, mandates, resources, files, posts, requests):
        statuses = Counter(m.spec.status for m in members.values())
        kinds = {spec.kind for spec, _ in resources}
        visible = sum(1 for said, _, _ in posts if not said.hidden)
        by_status = Counter(request.status for _, request in requests)
        root = Path(current_app.config["UPLOADS_PATH"]) / "network" / "library"
        emails = self.accounts
        pending = statuses[NetworkStatus.pending]
        declined, excluded = statuses[NetworkStatus.declined], statuses[NetworkStatus.excluded]
        facts = [
            f"- Réseau des élu·es : {statuses[NetworkStatus.member]} membres, "
            f"{len(mandates)} mandats déclarés à tous les niveaux (du conseil municipal au "
            f"Parlement européen et aux conseils consulaires), {pending} demandes d'adhésion en "
            f"attente, {declined} déclinée{'s' * (declined > 1)}, {excluded} "
            f"membre{'s' * (excluded > 1)} exclu{'s' * (excluded > 1)} ; une équipe d'animation de "
            f"{len(TEAM)} personnes, dont {sum(r == TeamRole.co_lead for _, _, r, _ in TEAM)} "
            "co-animateur·rices ;",
            f"- {len(resources)} ressources partagées de {len(kinds)} sortes, {len(files)} "
            f"fichiers (dans {root}), {len(THREADS)} discussions ({visible} messages, plus un "
            f"masqué par l'équipe), {len(requests)} demandes d'appui (ouvertes : "
            f"{by_status[SupportStatus.open]}, prises en charge : "
            f"{by_status[SupportStatus.assigned]}, répondues : "
            f"{by_status[SupportStatus.answered]}, closes : {by_status[SupportStatus.closed]}).",
        ]
        tries = [
            f"- {emails['network']} (équipe d'animation du réseau) examine les {pending} demandes "
            "d'adhésion et prend en charge les demandes d'appui ouvertes ;",
            f"- {emails['elue']} (élue membre du réseau) cherche « régie » dans la bibliothèque, "
            "télécharge une délibération et répond dans les discussions ;",
            f"- {emails['candidat']} a demandé à rejoindre le réseau : l'espace lui reste fermé "
            "tant que l'équipe n'a pas répondu.",
        ]
        return facts, tries
