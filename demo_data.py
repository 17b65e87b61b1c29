"""The demo data set loaded by `flask demo`: a realistic French participatory budget.

It loads only into an empty database and says so otherwise: running it twice adds nothing,
and a database that already holds real data never gets demo accounts with a published
password. The rows are written directly through the models, in one write transaction and a few
bulk flushes, with one password hash shared by every account (hashing is the slow part). The
illustrations then go through the very services a person's upload goes through (each call its
own transaction), as the animator who follows the proposal. The network of elected officials
follows, in a write transaction of its own (demo_network.py). The money comes last, in one
write transaction: earmarked donations into every certified group's envelope, spending requests
in every status with their receipts (checked and stored as uploads are) and timelines, and the
ledger operations of those approved. Ledger operations are never deleted, so nothing of it may
be committed unless all of it is. If a stage after the first fails, the rows and files already
written are removed again, so that the command either loads everything or leaves the database
as it found it. It all takes a few seconds.

The data keep the rules of DESIGN.md section 3: a proposal's counter equals its active
commitments, one commitment per (group, proposal), only certified groups commit and only to
published proposals, and the fundable transition is recorded exactly as
services.commitments.record_fundable_if_reached would have recorded it, by replaying the
commitments, withdrawals and threshold changes in time order. The reservations follow the
budget round's rules (section 3, « Reservations »), replayed the same way across each round:
at a proposal's transition its active commitments reserve in commitment order while the
remaining budget allows, a later commitment reserves at once if it can; the counters (the
round's reserved_cents, a proposal's reserved_count and reserved_cents) are their sums. Two
rounds: the current one, nearly exhausted, and last year's, closed. And those of the workspace:
budget lines add up to the per-group budget, every save is a revision whose snapshot is the
whole text (`services.proposals.ProposalText.snapshot`, the last one equal to the current
text), the exchange alternates between the group and the animator who follows the proposal.
And those of the ledger: a balance is the sum of its operations and no envelope is ever below
zero, replayed in time order; each request's timeline follows services.spending's transitions
with the people allowed to make them; an approved request is charged by the charging rule,
replayed approval after approval: to the round up to what is left of its commitment's
reservation, the rest to its group's envelope.
"""

import functools
import io
import random
import re
import tempfile
import time
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin
from sqlalchemy import delete, exists, select
from werkzeug.security import generate_password_hash

from cli import CommandError
from demo_network import NetworkDemo
from models import (
    AccountKind,
    ActionGroup,
    AuditEntry,
    BudgetLine,
    BudgetRound,
    Category,
    Commitment,
    CommitmentStatus,
    Illustration,
    LedgerAccount,
    LedgerOperation,
    MemberRole,
    Membership,
    MessageRead,
    Person,
    Proposal,
    ProposalMessage,
    ProposalRevision,
    ProposalStatus,
    Reservation,
    SpendingCategory,
    SpendingEvent,
    SpendingReceipt,
    SpendingRequest,
    SpendingStatus,
    ThresholdPolicy,
    db,
    utcnow,
)
from services import illustrations as illustration_service
from services import images
from services import receipts as receipt_files
from services.donations import ImportResult
from services.donations import _describe as describe_import
from services.errors import DomainError
from services.illustrations import UploadedFile
from services.ledger import _lock
from services.ledger import account as ledger_account
from services.money import format_cents, format_paris
from services.proposals import ProposalText, slugify
from services.rounds import _describe as describe_round
from services.spending import RequestFields, clean_fields
from services.tx import write_transaction

SEED = 2027
DEMO_PASSWORD = "demo-commun-2027"
DEMO_DOMAIN = "demo.commun.fr"
UNCERTIFIED_GROUPS = 20

# The current round: created by the finance team with a base threshold of 20, lowered to 15
# (audited, with its reason) before commitments opened some weeks ago; they close in a few
# months. Manual policy: the demo's « near » proposal must become fundable with the demo
# manager's two commitments, which a threshold rising as the budget shrinks would prevent
# (scaled can be tried in the round page's simulator). Its total is not a constant: it is the
# largest multiple of ROUND_TOTAL_STEP_CENTS with which replaying the commitments leaves the
# budget nearly exhausted, exactly one fundable proposal having a few commitments « hors
# budget participatif » (see `_current_round_total`).
ROUND_NAME = "Budget participatif 2027"
BASE_THRESHOLD = 15
INITIAL_BASE_THRESHOLD = 20
BASE_THRESHOLD_REASON = (
    "Retour des groupes consultés avant l'ouverture : 20 groupes, c'est trop pour des actions "
    "locales peu coûteuses. Seuil de base ramené à 15 groupes."
)
ROUND_CREATED_DAYS_AGO = 70
BASE_THRESHOLD_CHANGED_DAYS_AGO = 57
ROUND_OPENED_DAYS_AGO = 49
ROUND_CLOSES_IN_DAYS = 130
ROUND_TOTAL_STEP_CENTS = 50_000  # 500 €

# The previous round: closed, not current, its fundable proposals and reservations kept.
PREVIOUS_ROUND_NAME = "Budget participatif 2026"
PREVIOUS_TOTAL_CENTS = 2_500_000  # 25 000 €
PREVIOUS_BASE_THRESHOLD = 12
PREVIOUS_CREATED_DAYS_AGO = 340
PREVIOUS_OPENED_DAYS_AGO = 330
PREVIOUS_CLOSED_DAYS_AGO = 75
PARIS = ZoneInfo("Europe/Paris")

# The accounts shown by `make run` and in the README, one per role.
DEMO_ACCOUNTS = (
    # (key, role shown, e-mail, display name)
    ("manager", "Gestionnaire de deux groupes certifiés", f"manager@{DEMO_DOMAIN}", "Camille Roux"),
    ("membre", "Membre d'un groupe, sans droit d'engager", f"membre@{DEMO_DOMAIN}", "Yanis Benali"),
    (
        "non_certifie",
        "Gestionnaire d'un groupe non certifié",
        f"non-certifie@{DEMO_DOMAIN}",
        "Lucas Morel",
    ),
    ("animation", "Équipe d'animation", f"animation@{DEMO_DOMAIN}", "Sofia Marchand"),
    ("finance", "Équipe de suivi financier", f"finance@{DEMO_DOMAIN}", "Bernard Ollivier"),
    ("admin", "Administration", f"admin@{DEMO_DOMAIN}", "Nadia Kerbrat"),
    # The network of elected officials (demo_network.py).
    (
        "network",
        "Équipe d'animation du réseau des élu·es",
        f"reseau@{DEMO_DOMAIN}",
        "Claire Vasseur",
    ),
    ("elue", "Élue membre du réseau des élu·es", f"elue@{DEMO_DOMAIN}", "Hélène Garnier"),
    ("candidat", "Élu en attente d'adhésion au réseau", f"candidat@{DEMO_DOMAIN}", "Thomas Nguyen"),
)
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"

# ---------------------------------------------------------------------------------------------
# Groups: real communes with their département codes.

# Large cities get one group per neighbourhood.
CITY_QUARTERS = (
    ("Paris", "75", ("Belleville", "Goutte-d'Or", "Porte de Montreuil", "Olympiades", "Flandre")),
    ("Marseille", "13", ("Noailles", "Belle de Mai", "Le Panier", "Frais-Vallon", "Félix-Pyat")),
    ("Lyon", "69", ("Croix-Rousse", "Guillotière", "Mermoz", "La Duchère")),
    ("Toulouse", "31", ("Mirail", "Bagatelle", "Arnaud-Bernard", "Empalot")),
    ("Bordeaux", "33", ("Bastide", "Saint-Michel", "Chartrons", "Bacalan", "Grand Parc")),
    ("Lille", "59", ("Wazemmes", "Fives", "Moulins", "Lille-Sud")),
    ("Nantes", "44", ("Bellevue", "Malakoff", "Dervallières")),
    ("Rennes", "35", ("Villejean", "Maurepas", "Le Blosne")),
    ("Montpellier", "34", ("Mosson", "Figuerolles", "Près d'Arènes")),
    ("Strasbourg", "67", ("Neudorf", "Hautepierre", "Cronenbourg")),
    ("Grenoble", "38", ("Villeneuve", "Saint-Bruno", "Mistral")),
    ("Saint-Denis", "93", ("Franc-Moisin", "Pleyel", "Centre-ville")),
    ("Nice", "06", ("L'Ariane", "Les Moulins")),
    ("Rouen", "76", ("Hauts-de-Rouen", "Saint-Sever")),
    ("Le Havre", "76", ("Caucriauville", "Mont-Gaillard")),
    ("Clermont-Ferrand", "63", ("Croix-de-Neyrat", "Saint-Jacques")),
    ("Dijon", "21", ("Fontaine d'Ouche", "Grésilles")),
    ("Saint-Étienne", "42", ("Montreynaud", "Tarentaize")),
    ("Toulon", "83", ("Pont-du-Las", "La Beaucaire")),
    ("Reims", "51", ("Croix-Rouge", "Orgeval")),
    ("Limoges", "87", ("Beaubreuil", "Val de l'Aurence")),
    ("Tours", "37", ("Sanitas", "Rives du Cher")),
    ("Metz", "57", ("Borny", "Bellecroix")),
    ("Brest", "29", ("Recouvrance", "Pontanézen")),
    ("Amiens", "80", ("Étouvie", "quartiers Nord")),
    ("Besançon", "25", ("Planoise", "Battant")),
    ("Nîmes", "30", ("Pissevin", "Valdegour")),
    ("Fort-de-France", "972", ("Trénelle", "Volga-Plage")),
)

# Other communes get one group each.
TOWNS = (
    ("Montreuil", "93"),
    ("Aubervilliers", "93"),
    ("Bobigny", "93"),
    ("Saint-Ouen-sur-Seine", "93"),
    ("Vitry-sur-Seine", "94"),
    ("Créteil", "94"),
    ("Nanterre", "92"),
    ("Argenteuil", "95"),
    ("Cergy", "95"),
    ("Évry-Courcouronnes", "91"),
    ("Melun", "77"),
    ("Mantes-la-Jolie", "78"),
    ("Villeurbanne", "69"),
    ("Vaulx-en-Velin", "69"),
    ("Échirolles", "38"),
    ("Roubaix", "59"),
    ("Dunkerque", "59"),
    ("Lens", "62"),
    ("Saint-Quentin", "02"),
    ("Beauvais", "60"),
    ("Ajaccio", "2A"),
    ("Bastia", "2B"),
    ("Pointe-à-Pitre", "971"),
    ("Cayenne", "973"),
    ("Le Lamentin", "972"),
    ("Le Port", "974"),
    ("Mamoudzou", "976"),
    ("Pau", "64"),
    ("Tarbes", "65"),
    ("Agen", "47"),
    ("Périgueux", "24"),
    ("Angoulême", "16"),
    ("La Rochelle", "17"),
    ("Niort", "79"),
    ("Poitiers", "86"),
    ("Brive-la-Gaillarde", "19"),
    ("Guéret", "23"),
    ("Châteauroux", "36"),
    ("Bourges", "18"),
    ("Blois", "41"),
    ("Orléans", "45"),
    ("Chartres", "28"),
    ("Évreux", "27"),
    ("Caen", "14"),
    ("Cherbourg-en-Cotentin", "50"),
    ("Alençon", "61"),
    ("Saint-Brieuc", "22"),
    ("Lorient", "56"),
    ("Quimper", "29"),
    ("Saint-Nazaire", "44"),
    ("La Roche-sur-Yon", "85"),
    ("Laval", "53"),
    ("Le Mans", "72"),
    ("Angers", "49"),
    ("Troyes", "10"),
    ("Charleville-Mézières", "08"),
    ("Nancy", "54"),
    ("Épinal", "88"),
    ("Mulhouse", "68"),
    ("Belfort", "90"),
    ("Chambéry", "73"),
    ("Annecy", "74"),
    ("Valence", "26"),
    ("Privas", "07"),
    ("Le Puy-en-Velay", "43"),
    ("Aurillac", "15"),
    ("Rodez", "12"),
    ("Cahors", "46"),
    ("Albi", "81"),
    ("Montauban", "82"),
    ("Foix", "09"),
    ("Carcassonne", "11"),
    ("Perpignan", "66"),
    ("Béziers", "34"),
    ("Avignon", "84"),
    ("Gap", "05"),
    ("Digne-les-Bains", "04"),
    ("Mende", "48"),
    ("Montluçon", "03"),
    ("Nevers", "58"),
    ("Auxerre", "89"),
    ("Mâcon", "71"),
    ("Bourg-en-Bresse", "01"),
    ("Lons-le-Saunier", "39"),
    ("Vesoul", "70"),
    ("Chaumont", "52"),
    ("Bar-le-Duc", "55"),
    ("Mont-de-Marsan", "40"),
    ("Auch", "32"),
    ("Châlons-en-Champagne", "51"),
    ("Colmar", "68"),
    ("Saint-Malo", "35"),
    ("Alès", "30"),
)

# The demo accounts' groups: (commune, neighbourhood or None).
MANAGER_REFERENT_OF = ("Bordeaux", "Bastide")
MANAGER_MANAGER_OF = ("Bordeaux", "Saint-Michel")
UNCERTIFIED_MANAGER_OF = ("Guéret", None)

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Inès", "Chloé", "Sarah", "Jade", "Lina", "Emma", "Louise",
    "Nora", "Aïcha", "Fatou", "Mélanie", "Sandrine", "Nathalie", "Isabelle", "Sophie", "Claire",
    "Julie", "Yasmina", "Océane", "Maëlys", "Hélène", "Martine", "Josette", "Éloïse", "Rose",
    "Thomas", "Lucas", "Hugo", "Nathan", "Yanis", "Karim", "Mehdi", "Samir", "Moussa",
    "Mamadou", "Julien", "Nicolas", "Mathieu", "Antoine", "Romain", "Kevin", "Jérôme", "Olivier",
    "Pierre", "Louis", "Gabriel", "Raphaël", "Ibrahim", "Bilal", "Théo", "Maxime", "Sébastien",
    "Christophe", "Patrick", "Jean-Marc", "Marie-Claire", "Anne-Sophie", "Loïc", "Erwan", "Maël",
    "Dominique", "Alix", "Sacha", "Ange", "Kelly", "Steeve", "Dylan",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier",
    "Fontaine", "Chevalier", "Robin", "Benali", "Haddad", "Diallo", "Traoré", "Nguyen", "Mendy",
    "Rahmani", "Cissé", "Pereira", "Da Silva", "Ferreira", "Kaci", "Bensaïd", "Le Gall",
    "Le Goff", "Kervella", "Etcheverry", "Santoni", "Jean-Baptiste", "Hoarau", "Payet",
    "Kowalski", "Ouattara",
)  # fmt: skip

CERTIFICATION_REASONS = (
    "Charte signée, deux gestionnaires identifié·es.",
    "Première action menée et compte rendu transmis.",
    "Groupe actif depuis plusieurs mois, validé par l'équipe départementale.",
    "Réunion de présentation tenue, charte signée.",
)

COMMITMENT_NOTES = (
    "Nous l'organiserons au centre social, un samedi par mois.",
    "En lien avec l'amicale des locataires, qui nous prête sa salle.",
    "La mairie prête une salle ; le matériel manque encore.",
    "On commence à la rentrée, avec l'équipe du marché du dimanche.",
    "Adaptation locale : deux créneaux, l'un en semaine, l'autre le week-end.",
    "Le groupe a déjà trois volontaires ; on cherche un lieu couvert.",
    "Nous le ferons avec le collectif de parents d'élèves du quartier.",
    "Première édition prévue au printemps, puis tous les deux mois.",
    "On la couplera avec notre permanence du mercredi.",
    "Lieu trouvé ; on prévoit des affiches en plusieurs langues.",
)

# ---------------------------------------------------------------------------------------------
# Proposals. Published ones carry the plan of their commitments:
#   active: active commitments at the end; withdrawn: commitments withdrawn since;
#   override: the threshold override, set by the animation team `override_after` commitments
#   after publication (0 = at publication); days: days since publication;
#   demo: which of the demo manager's groups committed ("referent", "manager");
#   fundable: whether replaying all this must make it fundable (checked when loading);
#   outside: how many of its latest commitments the current round's budget no longer covers.


@dataclass(frozen=True)
class Plan:
    active: int
    days: int
    withdrawn: int = 0
    override: int | None = None
    override_after: int = 0
    override_reason: str = ""
    demo: tuple[str, ...] = ()
    fundable: bool = False
    near: bool = False
    # The last commitments, after every other commitment to a fundable proposal of the round:
    # the nearly exhausted budget no longer covers them (« hors budget participatif »).
    outside: int = 0


@dataclass(frozen=True)
class Spec:
    title: str
    category: Category
    status: ProposalStatus
    summary: str
    why: str
    steps: tuple[str, ...]
    material: tuple[str, ...]
    lines: tuple[tuple[str, int], ...]  # (budget line, euros for one group)
    tips: str = ""
    plan: Plan | None = None
    origin: str | None = None  # "referent" or "manager": one of the demo manager's groups
    reason: str = ""  # why it was declined or withdrawn


S = ProposalStatus
C = Category

PROPOSALS = (
    Spec(
        "Cantine solidaire de quartier",
        C.alimentation,
        S.published,
        "Un repas chaud à prix libre chaque semaine, cuisiné par les habitant·es avec des "
        "invendus et des produits de maraîchers voisins.",
        "Dans beaucoup de quartiers, bien manger est devenu un luxe. Une cantine à prix libre "
        "crée un lieu où l'on mange bien, où personne n'a à justifier de sa situation, et où "
        "l'on se rencontre pour s'organiser ensemble.",
        (
            "Trouver une salle avec une cuisine (centre social, maison de quartier, local "
            "associatif) et vérifier avec le lieu les règles d'hygiène.",
            "Constituer une équipe d'au moins six bénévoles : approvisionnement, cuisine, "
            "service, vaisselle.",
            "Négocier la récupération d'invendus avec deux ou trois commerces et un maraîcher.",
            "Annoncer le premier repas par du porte-à-porte et des affiches dans les halls.",
            "Servir à prix libre, sans condition, en affichant clairement que personne n'est "
            "obligé de payer.",
            "Après chaque service, faire un point de vingt minutes : quantités, ambiance, besoins.",
        ),
        (
            "Grandes marmites et bacs gastronormes",
            "Vaisselle réutilisable pour 60 couverts",
            "Thermomètre de cuisine et fiches de traçabilité",
            "Une caisse à prix libre",
        ),
        (
            ("Denrées en complément des dons", 220),
            ("Marmites et bacs gastronormes", 110),
            ("Vaisselle réutilisable", 50),
            ("Affiches et tracts", 20),
        ),
        "Commencez par un repas par mois si l'équipe est petite : la régularité compte plus "
        "que la fréquence.",
        Plan(active=31, withdrawn=1, days=45, demo=("referent",), fundable=True),
    ),
    Spec(
        "Atelier de réparation de vélos",
        C.mobilite,
        S.published,
        "Un atelier mensuel en plein air où l'on apprend à réparer son vélo soi-même, avec des "
        "outils partagés et des pièces à prix coûtant.",
        "Un vélo qui roule, c'est un moyen de transport gratuit pour aller travailler, étudier "
        "ou faire ses courses. Beaucoup dorment dans les caves pour une chambre à air ou un "
        "câble de frein : réparons-les ensemble.",
        (
            "Repérer un lieu passant et abrité : place du marché, parvis de la médiathèque, "
            "cour d'une école le samedi.",
            "Réunir deux ou trois personnes qui savent réparer, et d'autres qui veulent apprendre.",
            "Acheter la caisse à outils et un petit stock de pièces courantes.",
            "Tenir l'atelier deux heures, un samedi par mois, en montrant plutôt qu'en "
            "faisant à la place.",
            "Noter les réparations faites pour ajuster le stock de pièces.",
            "Avant l'été, proposer une séance spéciale pour les enfants.",
        ),
        (
            "Caisse à outils : clés, démonte-pneus, dérive-chaîne, clé à rayons",
            "Pompe à pied avec manomètre",
            "Pied d'atelier",
            "Chambres à air, patins et câbles de frein",
        ),
        (
            ("Caisse à outils complète", 140),
            ("Pièces détachées courantes", 110),
            ("Pied d'atelier", 50),
        ),
        "Une ardoise « prochaine date » accrochée au pied d'atelier fait revenir les gens.",
        Plan(active=24, days=42, demo=("referent", "manager"), fundable=True),
        origin="referent",
    ),
    Spec(
        "Distribution de fournitures scolaires",
        C.solidarite,
        S.published,
        "À la rentrée, des kits de fournitures complets distribués gratuitement aux familles, "
        "avec un stand pour parler de l'école et des droits des parents.",
        "La liste de fournitures coûte souvent plus de cent euros par enfant. Une distribution "
        "gratuite soulage les familles et ouvre la discussion sur la gratuité réelle de l'école "
        "publique.",
        (
            "Récupérer auprès de deux écoles et d'un collège les listes de fournitures.",
            "Commander en gros auprès d'un grossiste ou d'une coopérative scolaire.",
            "Préparer les kits par niveau lors d'une soirée d'emballage ouverte à tous.",
            "Distribuer devant les écoles ou au marché les deux derniers samedis d'août.",
            "Tenir à côté un stand sur les droits des parents (allocation de rentrée, "
            "cantine, fonds social).",
        ),
        (
            "Cahiers, stylos, classeurs, trousses achetés en gros",
            "Sacs en tissu pour les kits",
            "Une table, un barnum et une affiche",
        ),
        (
            ("Fournitures achetées en gros", 200),
            ("Sacs en tissu", 35),
            ("Impressions des listes et affiches", 15),
        ),
        "Demandez la taille des classes aux écoles : c'est la meilleure estimation des besoins.",
        Plan(active=38, days=40, demo=("manager",), fundable=True),
    ),
    Spec(
        "Jardin partagé en pied d'immeuble",
        C.ecologie,
        S.published,
        "Transformer une pelouse délaissée au pied d'un immeuble en potager cultivé par les "
        "habitant·es, avec des bacs, du compost et une récolte partagée.",
        "Un jardin partagé fait pousser des légumes, mais surtout des liens entre voisins. Il "
        "rend visible qu'un quartier peut décider de l'usage de ses espaces communs.",
        (
            "Repérer un espace vert et demander l'accord du bailleur social par écrit.",
            "Organiser une réunion en bas de l'immeuble pour choisir les cultures.",
            "Construire les bacs ensemble lors d'un chantier participatif.",
            "Installer un composteur et un récupérateur d'eau de pluie.",
            "Fixer un planning d'arrosage partagé, affiché dans le hall.",
            "Fêter la première récolte avec un repas ouvert à tout l'immeuble.",
        ),
        (
            "Planches de bois non traité pour quatre bacs",
            "Terreau, compost, semences et plants",
            "Arrosoirs, transplantoirs, gants",
            "Récupérateur d'eau de pluie",
        ),
        (
            ("Bois pour les bacs de culture", 150),
            ("Terreau et compost", 90),
            ("Outils de jardinage", 50),
            ("Semences et plants", 40),
            ("Récupérateur d'eau", 20),
        ),
        "Choisissez des cultures faciles la première année : radis, salades, courgettes, "
        "aromatiques.",
        Plan(active=17, withdrawn=1, days=38, demo=("referent",), fundable=True),
    ),
    Spec(
        "Permanence d'accès aux droits",
        C.solidarite,
        S.published,
        "Une permanence hebdomadaire où des bénévoles formé·es aident à faire valoir ses "
        "droits : RSA, APL, prime d'activité, dossiers de la CAF et de la CPAM.",
        "Des milliards d'euros de prestations ne sont pas versés chaque année faute de demande. "
        "Une permanence régulière, tenue par des voisin·es, lève les obstacles : formulaires, "
        "démarches en ligne, courriers incompréhensibles.",
        (
            "Former quatre bénévoles avec une association d'accès aux droits ou un syndicat.",
            "Obtenir un créneau fixe dans un lieu accessible (centre social, local syndical).",
            "Préparer des fiches pratiques par prestation et un modèle de suivi anonyme.",
            "Tenir la permanence deux heures par semaine, toujours à deux bénévoles.",
            "Orienter vers les professionnel·les (assistante sociale, avocat·e) quand il le faut.",
        ),
        (
            "Un ordinateur portable et une imprimante partagés",
            "Classeurs de fiches pratiques",
            "Une signalétique visible depuis la rue",
        ),
        (
            ("Documentation et fiches pratiques", 60),
            ("Impressions et photocopies", 50),
            ("Signalétique et fournitures", 70),
            ("Formation des bénévoles (participation)", 20),
        ),
        "Gardez une trace anonyme des demandes : elle aide à montrer les besoins aux élu·es.",
        Plan(
            active=16,
            days=35,
            override=12,
            override_after=13,
            override_reason="Action peu coûteuse et très demandée : seuil abaissé à 12 groupes "
            "après échange avec les groupes engagés.",
            fundable=True,
        ),
    ),
    Spec(
        "Caravane des luttes",
        C.education,
        S.published,
        "Une caravane qui sillonne le département trois week-ends de suite pour recueillir et "
        "faire connaître les luttes locales : fermetures de services publics, expulsions, "
        "grèves.",
        "Les luttes locales restent souvent isolées. La caravane va à leur rencontre, les "
        "filme, les raconte sur les marchés et relie les collectifs entre eux.",
        (
            "Cartographier avec les groupes voisins les luttes en cours dans le département.",
            "Louer un utilitaire et préparer un itinéraire de six étapes sur trois week-ends.",
            "À chaque étape, installer le barnum au marché, écouter, enregistrer, afficher.",
            "Organiser le dernier soir une assemblée qui réunit les collectifs rencontrés.",
            "Publier un carnet de route avec les témoignages recueillis.",
        ),
        (
            "Un utilitaire de location",
            "Une sono portable et un micro",
            "Un barnum, des panneaux d'exposition et des grilles",
        ),
        (
            ("Location d'un utilitaire pour trois week-ends", 330),
            ("Sono portable", 120),
            ("Barnum et matériel d'exposition", 100),
            ("Tracts et affiches", 50),
        ),
        "Prévenez les collectifs à l'avance : la caravane les aide, elle ne parle pas à leur "
        "place.",
        Plan(active=13, withdrawn=1, days=30, near=True),
    ),
    Spec(
        "Festival populaire de quartier",
        C.culture,
        S.published,
        "Une journée de fête gratuite organisée avec les habitant·es : scène ouverte, repas "
        "partagé, jeux pour les enfants, stands des associations.",
        "Faire la fête ensemble, c'est aussi reprendre l'espace public. Le festival fait "
        "connaître le groupe et les associations du quartier bien au-delà des cercles "
        "militants.",
        (
            "Réunir un comité d'organisation ouvert, quatre mois avant la date.",
            "Déclarer la manifestation en mairie et souscrire une assurance.",
            "Programmer des artistes du quartier et une scène ouverte.",
            "Inviter les associations à tenir un stand gratuitement.",
            "Prévoir une équipe d'accueil, de sécurité et de nettoyage.",
        ),
        (
            "Sono et éclairage",
            "Barnums, tables et bancs",
            "Jeux en bois pour les enfants",
        ),
        (
            ("Sono et éclairage", 300),
            ("Barnums et tables", 200),
            ("Défraiement des artistes locaux", 250),
            ("Communication", 80),
            ("Assurance de la manifestation", 70),
        ),
        "",
        Plan(
            active=28,
            days=33,
            override=25,
            override_reason="Action plus coûteuse que la moyenne : seuil relevé à 25 groupes.",
            demo=("manager",),
            fundable=True,
            outside=3,
        ),
    ),
    Spec(
        "Visites aux aîné·es isolé·es",
        C.sante,
        S.published,
        "Des binômes de bénévoles rendent visite chaque semaine aux personnes âgées isolées du "
        "quartier, font le lien avec les services et repèrent les situations d'urgence.",
        "L'isolement tue, surtout pendant les canicules et l'hiver. Une visite régulière "
        "rompt la solitude et permet d'alerter à temps.",
        (
            "Faire connaître l'action par les pharmacies, les gardien·nes et les commerces.",
            "Former les bénévoles avec une association de visites à domicile.",
            "Constituer des binômes fixes pour que les personnes retrouvent des visages connus.",
            "Tenir un carnet de liaison et un numéro d'astreinte pendant les canicules.",
        ),
        (
            "Carnets de liaison",
            "Annuaire des services utiles du quartier",
        ),
        (
            ("Carnets de liaison et annuaire", 30),
            ("Petits cadeaux de saison", 70),
            ("Frais de déplacement", 50),
        ),
        "",
        Plan(active=11, withdrawn=2, days=28, demo=("manager",)),
    ),
    Spec(
        "Permanence logement contre les expulsions",
        C.logement,
        S.published,
        "Une permanence pour les locataires menacé·es d'expulsion : comprendre la procédure, "
        "saisir les aides, préparer l'audience, ne pas rester seul·e.",
        "Une expulsion se prépare des mois à l'avance ; la plupart des locataires découvrent "
        "trop tard les recours possibles. Une permanence collective change l'issue de "
        "nombreuses procédures.",
        (
            "Se former avec une association de défense des locataires.",
            "Ouvrir une permanence mensuelle et une ligne téléphonique.",
            "Accompagner les locataires aux rendez-vous et aux audiences.",
            "Organiser une chaîne de solidarité quand une expulsion est imminente.",
        ),
        (
            "Guide juridique à jour",
            "Téléphone dédié",
            "Classeurs de suivi",
        ),
        (
            ("Documentation juridique", 60),
            ("Forfait téléphonique", 80),
            ("Affiches et tracts", 40),
            ("Classeurs et fournitures", 70),
        ),
        "",
        Plan(active=9, days=24),
    ),
    Spec(
        "Bibliothèque de rue",
        C.education,
        S.published,
        "Chaque mercredi après-midi, des tapis, des coussins et des caisses de livres au pied "
        "des immeubles, pour lire avec les enfants là où ils sont.",
        "Les enfants qui ne vont pas à la médiathèque n'en ont pas moins envie d'histoires. La "
        "bibliothèque de rue apporte les livres dehors, et les parents s'y arrêtent aussi.",
        (
            "Choisir un emplacement fixe, visible et abrité du vent.",
            "Constituer un fonds de livres jeunesse, neufs et d'occasion.",
            "Lire à voix haute, laisser feuilleter, ne rien imposer.",
            "Proposer aux familles un lien avec la médiathèque la plus proche.",
        ),
        (
            "Tapis et coussins",
            "Caisses de livres",
        ),
        (
            ("Livres jeunesse", 110),
            ("Tapis, coussins et caisses", 50),
            ("Affiches", 20),
        ),
        "",
        Plan(active=7, days=20, demo=("referent",)),
    ),
    Spec(
        "Navette solidaire vers les services publics",
        C.mobilite,
        S.published,
        "Un covoiturage organisé par des bénévoles pour conduire celles et ceux qui n'ont pas "
        "de voiture vers la CAF, l'hôpital, la sous-préfecture ou France Travail.",
        "Quand les guichets ferment dans les petites villes, c'est à quarante kilomètres qu'il "
        "faut aller. La navette rend ces trajets possibles et montre ce que coûte la fermeture "
        "des services publics.",
        (
            "Recenser les conducteurs et conductrices volontaires et leurs disponibilités.",
            "Mettre en place un numéro unique de réservation, tenu à tour de rôle.",
            "Vérifier l'assurance des véhicules pour le transport de passagers bénévole.",
            "Tenir un registre des trajets pour défendre la réouverture des guichets.",
        ),
        (
            "Téléphone de réservation",
            "Sièges auto pour enfants",
        ),
        (
            ("Carburant", 250),
            ("Assurance complémentaire", 150),
            ("Sièges auto pour enfants", 70),
            ("Planning et signalétique", 30),
        ),
        "",
        Plan(active=4, days=14),
    ),
    Spec(
        "Atelier cuisine anti-gaspillage",
        C.alimentation,
        S.published,
        "Un atelier mensuel pour cuisiner ensemble les invendus du marché et repartir avec des "
        "recettes et des bocaux.",
        "Cuisiner les restes et les invendus, c'est manger mieux pour moins cher et réduire le "
        "gaspillage. L'atelier est aussi un moment de transmission entre générations.",
        (
            "Récupérer les invendus en fin de marché avec l'accord des maraîchers.",
            "Cuisiner à plusieurs trois recettes simples.",
            "Partager le repas et remplir des bocaux pour chacun.",
        ),
        (
            "Petit matériel de cuisine",
            "Bocaux en verre",
        ),
        (
            ("Ingrédients de base", 120),
            ("Petit matériel de cuisine", 60),
            ("Bocaux", 40),
        ),
        "",
        Plan(active=2, days=8),
    ),
    Spec(
        "Ciné-débat en plein air",
        C.culture,
        S.published,
        "Une projection gratuite en plein air d'un film engagé, suivie d'un débat avec les "
        "habitant·es et, si possible, une personne de l'équipe du film.",
        "Le cinéma en plein air attire un large public. Un film bien choisi ouvre une "
        "discussion qu'aucun tract n'obtiendrait.",
        (
            "Choisir le film et acheter les droits de projection non commerciale.",
            "Déclarer l'événement en mairie.",
            "Installer l'écran, la sono et des chaises à la tombée de la nuit.",
            "Animer le débat et proposer de se revoir pour la suite.",
        ),
        (
            "Écran gonflable et vidéoprojecteur",
            "Sono",
        ),
        (
            ("Location de l'écran et du vidéoprojecteur", 350),
            ("Droits de diffusion", 150),
            ("Sono", 120),
            ("Communication", 80),
        ),
        "",
        Plan(active=0, days=1),
    ),
    Spec(
        "Ateliers de rénovation énergétique à petit prix",
        C.logement,
        S.published,
        "Des chantiers-écoles chez les habitant·es pour isoler, calfeutrer et traquer les "
        "fuites de chaleur, avec une caméra thermique partagée.",
        "La précarité énergétique touche des millions de foyers. De petits travaux bien faits "
        "réduisent la facture dès le premier hiver, et s'apprennent en les faisant.",
        (
            "Repérer les logements avec une visite et la caméra thermique.",
            "Organiser un chantier-école par mois avec un ou une artisan·e bénévole.",
            "Fournir les matériaux et les outils, et laisser une fiche pratique.",
            "Aider les locataires à demander les travaux lourds au bailleur.",
        ),
        (
            "Caméra thermique",
            "Outillage",
            "Matériaux d'isolation",
        ),
        (
            ("Caméra thermique", 450),
            ("Outillage", 300),
            ("Matériaux d'isolation pour les chantiers-écoles", 400),
            ("Fiches pratiques imprimées", 50),
        ),
        "",
        Plan(
            active=16,
            days=26,
            override=20,
            override_reason="Matériel coûteux (caméra thermique) : seuil relevé à 20 groupes.",
        ),
    ),
    Spec(
        "Soutien scolaire gratuit",
        C.education,
        S.published,
        "Deux soirs par semaine, des bénévoles aident les collégien·nes à faire leurs devoirs, "
        "dans un local du quartier, gratuitement.",
        "Le soutien scolaire payant creuse les inégalités. Une aide aux devoirs gratuite et "
        "régulière redonne confiance aux élèves et du temps aux parents.",
        (
            "Trouver un local calme avec des tables, ouvert en fin de journée.",
            "Recruter des bénévoles : étudiant·es, retraité·es, parents.",
            "Fixer deux créneaux par semaine et une inscription simple.",
            "Faire le point chaque trimestre avec les familles.",
        ),
        (
            "Manuels et cahiers d'exercices",
            "Fournitures",
        ),
        (
            ("Manuels et cahiers d'exercices", 120),
            ("Fournitures", 50),
            ("Goûters", 80),
        ),
        "",
        Plan(
            active=12,
            days=21,
            override=10,
            override_reason="Action simple et peu coûteuse : seuil abaissé à 10 groupes.",
            fundable=True,
        ),
    ),
    # Not published: no commitments.
    Spec(
        "Ressourcerie éphémère",
        C.ecologie,
        S.draft,
        "Pendant un week-end, collecter, réparer et redistribuer à prix libre les objets dont "
        "les habitant·es n'ont plus besoin.",
        "Des objets en bon état finissent à la déchetterie quand d'autres en manquent.",
        (
            "Annoncer la collecte deux semaines avant.",
            "Trier et réparer avec des bénévoles bricoleurs.",
            "Redistribuer à prix libre le dimanche.",
        ),
        ("Tables", "Outils de petite réparation"),
        (("Location de la salle", 250), ("Outils", 120), ("Communication", 80)),
        origin="referent",
    ),
    Spec(
        "Groupement d'achat de produits paysans",
        C.alimentation,
        S.draft,
        "Commander ensemble, directement aux producteurs et productrices de la région, pour "
        "manger des produits de qualité à prix juste.",
        "Acheter en commun supprime les intermédiaires et soutient les paysan·nes.",
        (
            "Réunir une vingtaine de foyers.",
            "Choisir trois producteurs et un jour de livraison.",
            "Organiser la distribution à tour de rôle.",
        ),
        ("Balance", "Caisses"),
        (("Balance et caisses", 180), ("Tableur et impressions", 20), ("Glacières", 100)),
    ),
    Spec(
        "Bourse aux vêtements d'hiver",
        C.solidarite,
        S.submitted,
        "Collecter des manteaux, pulls et chaussures chaudes et les redonner gratuitement "
        "avant les premiers froids.",
        "L'hiver coûte cher aux familles : un manteau d'enfant dure une saison.",
        (
            "Collecter pendant trois semaines dans des points de dépôt.",
            "Trier par taille et laver si nécessaire.",
            "Ouvrir la bourse un samedi, gratuitement.",
        ),
        ("Portants", "Cintres", "Sacs"),
        (("Portants et cintres", 90), ("Laverie", 50), ("Affiches", 20)),
        origin="referent",
    ),
    Spec(
        "Initiation aux premiers secours",
        C.sante,
        S.submitted,
        "Une session de formation aux gestes qui sauvent, ouverte à tous les habitant·es, "
        "animée par un formateur ou une formatrice agréé·e.",
        "Savoir réagir face à un arrêt cardiaque ou une hémorragie sauve des vies.",
        (
            "Contacter une association de secourisme agréée.",
            "Réserver une salle pour une journée.",
            "Inscrire dix participant·es par session.",
        ),
        ("Mannequins de formation (prêtés)", "Salle"),
        (("Intervention du formateur", 400), ("Salle et collation", 80)),
    ),
    Spec(
        "Cours de français pour adultes",
        C.education,
        S.submitted,
        "Des cours de français gratuits deux soirs par semaine pour les adultes qui apprennent "
        "la langue, animés par des bénévoles formé·es.",
        "Parler français ouvre l'accès au travail, aux démarches et à la vie du quartier. Les "
        "cours existants sont saturés, et leurs horaires ne conviennent pas à celles et ceux "
        "qui travaillent.",
        (
            "Trouver une salle libre deux soirs par semaine (centre social, bourse du travail).",
            "Former les bénévoles avec une association d'alphabétisation.",
            "Constituer des groupes de niveau après un court entretien.",
            "Tenir les cours toute l'année scolaire, avec une garde d'enfants sur place.",
        ),
        (
            "Méthodes de français langue étrangère",
            "Tableau blanc et feutres",
            "Jeux et imagiers pour la garde d'enfants",
        ),
        (
            ("Méthodes et cahiers d'exercices", 140),
            ("Tableau blanc et fournitures", 60),
            ("Formation des bénévoles (participation)", 50),
        ),
    ),
    Spec(
        "Outilthèque de quartier",
        C.ecologie,
        S.submitted,
        "Une bibliothèque d'outils où l'on emprunte une perceuse, un escabeau ou une scie pour "
        "quelques jours, au lieu que chaque foyer les achète.",
        "Une perceuse ne sert que quelques minutes dans sa vie. Partager les outils fait "
        "économiser de l'argent, de la place et des ressources, et crée des occasions "
        "d'entraide entre voisin·es.",
        (
            "Trouver un local fermé pour ranger les outils (cave d'immeuble, local associatif).",
            "Constituer le stock de départ : dons des habitant·es et quelques achats.",
            "Tenir une permanence de prêt le samedi matin, avec un cahier d'emprunts.",
            "Proposer un atelier d'initiation aux outils tous les deux mois.",
        ),
        (
            "Perceuse-visseuse, scie sauteuse, ponceuse",
            "Escabeau et caisse à outils de base",
            "Étagères et cadenas",
        ),
        (
            ("Outillage électroportatif", 260),
            ("Outillage à main", 90),
            ("Étagères et rangement", 70),
            ("Cahier d'emprunts et étiquettes", 20),
        ),
    ),
    Spec(
        "Maraudes solidaires l'hiver",
        C.solidarite,
        S.in_review,
        "Des tournées du soir pour apporter boissons chaudes, duvets et écoute aux personnes "
        "à la rue, en lien avec le 115.",
        "L'hiver, chaque nuit dehors met des vies en danger.",
        (
            "Se former avec une association de maraude.",
            "Constituer des équipes de trois et un planning.",
            "Signaler les situations au 115.",
        ),
        ("Thermos", "Duvets", "Gilets réfléchissants"),
        (("Duvets et couvertures", 200), ("Boissons et denrées", 120), ("Thermos", 60)),
    ),
    Spec(
        "Fresque participative sur un mur du quartier",
        C.culture,
        S.in_review,
        "Peindre avec les habitant·es une fresque qui raconte l'histoire et les luttes du "
        "quartier, accompagnée par un ou une artiste.",
        "Un mur peint ensemble change le regard porté sur un quartier.",
        (
            "Obtenir l'autorisation du propriétaire du mur.",
            "Dessiner la maquette lors d'ateliers ouverts.",
            "Peindre en trois week-ends.",
        ),
        ("Peintures", "Échafaudage"),
        (("Peintures et pinceaux", 300), ("Location d'échafaudage", 200), ("Artiste", 150)),
        origin="referent",
    ),
    Spec(
        "Collecte de protections périodiques",
        C.sante,
        S.in_review,
        "Des boîtes de collecte dans les commerces et les lieux publics, et des distributions "
        "gratuites de protections périodiques à celles et ceux qui en manquent.",
        "La précarité menstruelle touche près de quatre millions de personnes en France. Une "
        "collecte organisée par le groupe en fournit à qui en a besoin, et porte la "
        "revendication de la gratuité.",
        (
            "Déposer des boîtes de collecte dans les pharmacies, les facs et les commerces "
            "partenaires.",
            "Relever les boîtes chaque semaine et trier les dons.",
            "Compléter par un achat groupé de protections, dont des protections lavables.",
            "Distribuer avec les associations de solidarité et aux permanences du groupe.",
        ),
        (
            "Boîtes de collecte décorées",
            "Protections jetables et lavables",
            "Sacs de distribution discrets",
        ),
        (
            ("Achat groupé de protections", 180),
            ("Protections lavables", 90),
            ("Boîtes de collecte et affiches", 30),
        ),
    ),
    Spec(
        "Location d'un local permanent pour chaque groupe",
        C.logement,
        S.declined,
        "Louer à l'année un local pour chaque groupe d'action, ouvert aux habitant·es.",
        "Un local donne un point d'ancrage au groupe.",
        (
            "Chercher un local commercial vacant.",
            "Signer un bail associatif.",
        ),
        ("Mobilier",),
        (("Loyer (six mois)", 2100), ("Mobilier", 400)),
        reason="Dépense récurrente qui dépasse le cadre d'une action à reproduire ; à porter "
        "dans le budget de fonctionnement plutôt que dans le budget participatif.",
    ),
    Spec(
        "Tournoi de foot inter-quartiers",
        C.culture,
        S.declined,
        "Un tournoi de football à sept entre équipes de quartiers voisins, avec buvette solidaire.",
        "Le sport rassemble au-delà des frontières entre quartiers.",
        (
            "Réserver un terrain municipal.",
            "Inscrire huit équipes mixtes.",
        ),
        ("Ballons", "Chasubles"),
        (("Ballons et chasubles", 150), ("Buvette", 150), ("Coupes", 100)),
        reason="Doublon du « Festival populaire de quartier », dans lequel le tournoi peut "
        "prendre place : propositions fusionnées.",
    ),
    Spec(
        "Vide-grenier solidaire",
        C.solidarite,
        S.withdrawn,
        "Un vide-grenier dont les emplacements sont gratuits et la buvette finance la caisse "
        "de solidarité du groupe.",
        "Un vide-grenier fait venir tout le quartier.",
        (
            "Déclarer l'événement en mairie.",
            "Attribuer les emplacements.",
        ),
        ("Barrières", "Tables"),
        (("Assurance", 80), ("Buvette", 70)),
        origin="manager",
        reason="Le groupe préfère l'organiser avec ses propres moyens cette année.",
    ),
    Spec(
        "Point d'accès numérique et aide aux démarches en ligne",
        C.education,
        S.withdrawn,
        "Un ordinateur en libre accès et des bénévoles pour aider aux démarches en ligne.",
        "La dématérialisation laisse de côté celles et ceux qui n'ont pas d'ordinateur.",
        (
            "Installer un poste dans un lieu ouvert.",
            "Tenir des créneaux d'accompagnement.",
        ),
        ("Ordinateur", "Imprimante"),
        (("Ordinateur reconditionné", 300), ("Imprimante", 120), ("Consommables", 80)),
        reason="Retirée par le groupe : rejoint la « Permanence d'accès aux droits ».",
    ),
)

# The previous round's proposals: published a year ago, all fundable, their groups' budgets
# reserved; the round is closed, so they accept no more commitments.
PREVIOUS_PROPOSALS = (
    Spec(
        "Épicerie solidaire à prix coûtant",
        C.alimentation,
        S.published,
        "Une épicerie ouverte deux après-midi par semaine, où les produits de base sont vendus "
        "au prix d'achat, sans marge, grâce à des commandes groupées.",
        "Les prix de l'alimentation ont grimpé bien plus vite que les salaires. Acheter en gros "
        "et revendre sans marge fait baisser la facture de chaque foyer, et l'épicerie devient "
        "un lieu où l'on parle de vie chère et de ce qu'on peut y faire ensemble.",
        (
            "Trouver un local prêté ou partagé, avec une pièce sèche pour le stock.",
            "Choisir une trentaine de produits de base avec les premier·es client·es.",
            "Passer une commande groupée par mois auprès d'un grossiste ou d'une coopérative.",
            "Tenir l'épicerie à trois bénévoles par créneau, caisse et stock affichés.",
            "Publier chaque mois la comparaison des prix avec la grande surface voisine.",
        ),
        (
            "Étagères et caisses de rangement",
            "Une balance homologuée",
            "Un cahier de caisse et de stock",
        ),
        (
            ("Premier stock de produits de base", 300),
            ("Étagères et caisses", 120),
            ("Balance homologuée", 60),
            ("Affiches et tracts", 20),
        ),
        "Affichez les prix d'achat : la transparence fait venir et revenir.",
        Plan(active=14, days=290, fundable=True),
    ),
    Spec(
        "Université populaire du samedi",
        C.education,
        S.published,
        "Un samedi par mois, une conférence suivie d'un débat, ouverte à toutes et tous, sur "
        "un sujet choisi par les habitant·es : travail, santé, logement, histoire sociale.",
        "Le savoir est une arme quand il se partage. Une université populaire donne la parole à "
        "des chercheur·es, des syndicalistes et des habitant·es, et crée un rendez-vous régulier "
        "qui fait grandir le groupe.",
        (
            "Constituer un petit comité qui choisit les thèmes avec le public.",
            "Inviter des intervenant·es bénévoles et prévoir leur défraiement.",
            "Réserver une salle de la maison de quartier ou de la médiathèque.",
            "Annoncer chaque séance deux semaines avant, sur les marchés et en ligne.",
            "Enregistrer les séances et les mettre à disposition des autres groupes.",
        ),
        (
            "Un micro et une petite sono",
            "Un vidéoprojecteur prêté",
            "Des affiches pour chaque séance",
        ),
        (
            ("Défraiement des intervenant·es", 100),
            ("Affiches et tracts", 60),
            ("Boissons et collation", 40),
        ),
        "Laissez au débat au moins autant de temps qu'à la conférence.",
        Plan(active=22, days=280, fundable=True),
    ),
    Spec(
        "Brigade contre les punaises de lit",
        C.logement,
        S.published,
        "Une équipe de voisin·es formé·es qui aide les locataires à se débarrasser des punaises "
        "de lit et à obtenir du bailleur le traitement de l'immeuble.",
        "Les punaises de lit ruinent le sommeil et coûtent des centaines d'euros aux familles, "
        "alors que le traitement incombe souvent au bailleur. Une brigade collective fait "
        "respecter ce droit et prête le matériel.",
        (
            "Se former auprès d'une association de locataires ou d'un service d'hygiène.",
            "Acheter un nettoyeur vapeur et des housses, prêtés aux locataires.",
            "Recenser les logements touchés par cage d'escalier.",
            "Écrire collectivement au bailleur pour exiger le traitement de tout l'immeuble.",
            "Suivre chaque logement jusqu'à la fin de l'infestation.",
        ),
        (
            "Nettoyeur vapeur haute température",
            "Housses anti-punaises pour matelas",
            "Modèles de courrier au bailleur",
        ),
        (
            ("Nettoyeur vapeur", 250),
            ("Housses de matelas", 150),
            ("Impressions et courriers", 50),
        ),
        "Le courrier collectif au bailleur pèse bien plus que dix courriers isolés.",
        Plan(active=17, days=265, fundable=True),
    ),
)

STATUS_LABELS = {
    ProposalStatus.draft: ("brouillon", "brouillons"),
    ProposalStatus.submitted: ("soumise", "soumises"),
    ProposalStatus.in_review: ("en revue", "en revue"),
    ProposalStatus.published: ("publiée", "publiées"),
    ProposalStatus.declined: ("refusée", "refusées"),
    ProposalStatus.withdrawn: ("retirée", "retirées"),
}


def _spec(title: str) -> Spec:
    return next(spec for spec in (*PROPOSALS, *PREVIOUS_PROPOSALS) if spec.title == title)


# ---------------------------------------------------------------------------------------------
# The workspace: what happened to a proposal between its submission and today, in order.
# A Message is written by the group (its author) or the team (the animator who follows it); an
# Edit is a save by that animator, whose `before` holds the Spec's parts as they were before
# it (the last edit leads to the Spec as written above); PUBLICATION splits what happened
# before publication from what happened after.


@dataclass(frozen=True)
class Message:
    side: str  # "group" or "team"
    body: str


@dataclass(frozen=True)
class Edit:
    before: dict  # Spec field -> earlier value: title, summary, why, steps, material, tips, lines


PUBLICATION = "publication"


@dataclass(frozen=True)
class Story:
    events: tuple
    team: str = "animation"  # who follows it: the demo account or "animation2"
    # How many messages the group's author and the animator have read (None: all of them).
    group_read: int | None = None
    team_read: int | None = None


STORIES = {
    "Cantine solidaire de quartier": Story(
        (
            Message(
                "group",
                "Bonjour, nous avons déjà tenu la cantine trois samedis de suite dans notre "
                "quartier : c'est cette expérience que nous proposons de partager. Dites-nous ce "
                "qu'il faut préciser.",
            ),
            Message(
                "team",
                "Merci, c'est très complet. Je propose « Cantine solidaire de quartier » comme "
                "titre : « à prix libre » laisse croire à certain·es que c'est payant. Le résumé "
                "peut aussi dire d'où viennent les produits.",
            ),
            Edit(
                {
                    "title": "Cantine à prix libre",
                    "summary": "Un repas chaud à prix libre chaque semaine, préparé avec des "
                    "invendus.",
                }
            ),
            Message("group", "Ça nous va très bien, merci !"),
            PUBLICATION,
            Message(
                "group",
                "Plusieurs groupes nous demandent si 40 € d'affiches sont nécessaires : chez "
                "nous, 20 € ont suffi, le reste est parti en denrées.",
            ),
            Edit(
                {
                    "lines": (
                        ("Denrées en complément des dons", 200),
                        ("Marmites et bacs gastronormes", 110),
                        ("Vaisselle réutilisable", 50),
                        ("Affiches et tracts", 40),
                    )
                }
            ),
            Message(
                "team",
                "Bonne remarque : j'ai déplacé 20 € des affiches vers les denrées. Le budget par "
                "groupe ne change pas.",
            ),
            Message(
                "group",
                "Premier repas servi samedi par un groupe voisin : 70 couverts ! Ils préparent "
                "un retour d'expérience.",
            ),
        ),
        team_read=5,
    ),
    "Atelier de réparation de vélos": Story(
        (
            Message(
                "group",
                "Bonjour ! Voici notre atelier vélo, qui tourne depuis un an à la Bastide. Le "
                "budget est celui de notre première caisse à outils.",
            ),
            Message(
                "team",
                "Bravo pour l'atelier ! 380 € par groupe, c'est un peu haut pour une action que "
                "beaucoup de groupes voudront reprendre : une caisse à outils d'atelier "
                "associatif se trouve autour de 140 €, un pied d'atelier solide à 50 €. On "
                "ajuste ?",
            ),
            Message("group", "D'accord pour 140 € et 50 €, c'est du matériel qui tient."),
            Edit(
                {
                    "lines": (
                        ("Caisse à outils complète", 180),
                        ("Pièces détachées courantes", 110),
                        ("Pied d'atelier", 90),
                    )
                }
            ),
            PUBLICATION,
            Message(
                "team",
                "Publiée ! Merci pour ce travail, nous la présentons dans la prochaine lettre "
                "aux groupes.",
            ),
            Message(
                "group",
                "Merci ! Nous avons ajouté une séance pour les enfants avant l'été, elle a très "
                "bien marché.",
            ),
            Edit({"steps": _spec("Atelier de réparation de vélos").steps[:-1]}),
            Message(
                "team",
                "Je l'ai ajoutée aux étapes de « Comment faire », pour les autres groupes.",
            ),
        ),
    ),
    "Festival populaire de quartier": Story(
        (
            Message(
                "group",
                "Nous proposons le festival que nous organisons chaque mois de juin ; le tournoi "
                "de foot proposé par un autre groupe pourrait y trouver sa place.",
            ),
            Message(
                "team",
                "Bonne idée : nous fusionnons les deux. Le défraiement des artistes à 150 € "
                "semble bas pour une journée entière ; les autres groupes comptent plutôt "
                "250 €.",
            ),
            Edit(
                {
                    "title": "Fête de quartier",
                    "lines": (
                        ("Sono et éclairage", 300),
                        ("Barnums et tables", 200),
                        ("Défraiement des artistes locaux", 150),
                        ("Communication", 80),
                        ("Assurance de la manifestation", 70),
                    ),
                }
            ),
            Message(
                "group",
                "Parfait. Avec un budget pareil, le seuil risque d'être long à atteindre, non ?",
            ),
            Message(
                "team",
                "Nous en avons parlé en équipe : le seuil sera de 25 groupes, pour que "
                "l'enveloppe profite aussi aux petites actions.",
            ),
            PUBLICATION,
        ),
        team="animation2",
    ),
    "Jardin partagé en pied d'immeuble": Story(
        (
            PUBLICATION,
            Message(
                "group",
                "Retour de terrain : la première année, nos tomates ont souffert du manque "
                "d'arrosage en août. Nous conseillerions plutôt des cultures faciles.",
            ),
            Edit({"tips": "Prévoyez dès le printemps qui arrosera pendant l'été."}),
            Message("team", "Merci, j'ai repris votre conseil dans « Comment faire »."),
        ),
    ),
    "Fresque participative sur un mur du quartier": Story(
        (
            Message(
                "group",
                "Bonjour ! Nous avons l'accord oral du bailleur pour le mur de l'école "
                "Jules-Ferry ; l'accord écrit doit arriver la semaine prochaine.",
            ),
            Edit({"summary": "Peindre une fresque sur un mur du quartier avec un ou une artiste."}),
            Message(
                "team",
                "Merci Camille. J'ai reformulé le résumé pour dire que les habitant·es peignent "
                "eux-mêmes : dites-moi s'il vous convient. Pouvez-vous aussi préciser le budget "
                "si l'artiste est bénévole ?",
            ),
            Message(
                "group",
                "Le résumé nous va. Sans artiste rémunéré·e, il faut compter 500 € : peintures "
                "et échafaudage.",
            ),
            Message(
                "team",
                "Parfait, je l'ajouterai en variante. Avez-vous une ou deux photos d'une fresque "
                "déjà peinte ? Elles aideront les autres groupes à se projeter.",
            ),
            Message(
                "team",
                "Autre question : les trois week-ends de peinture sont-ils fixés ? Cela compte "
                "pour la date de publication.",
            ),
        ),
        group_read=3,
    ),
    "Maraudes solidaires l'hiver": Story(
        (
            Message(
                "group",
                "Nous faisons déjà des maraudes avec une association ; l'idée est de donner aux "
                "groupes de quoi en lancer là où il n'y en a pas.",
            ),
            Message(
                "team",
                "C'est très utile. Pour que l'action soit reproductible, il faudrait détailler "
                "la formation : avec quelle association, combien de temps ?",
            ),
            Message(
                "group",
                "Une soirée de formation de trois heures, puis deux maraudes en binôme avec des "
                "bénévoles expérimenté·es. Je complète le texte dès que possible.",
            ),
        ),
        team="animation2",
        team_read=2,
    ),
    "Collecte de protections périodiques": Story(
        (
            Message(
                "team",
                "Bonjour, c'est moi qui suivrai votre proposition. Une question : les "
                "protections lavables sont-elles distribuées à part, avec une explication ?",
            ),
            Message(
                "group",
                "Oui, lors d'un atelier d'une heure avec une sage-femme du centre de santé, qui "
                "explique l'entretien.",
            ),
            Message(
                "team",
                "Très bien : pouvez-vous l'ajouter aux étapes ? Je regarde si le budget peut "
                "prévoir une participation pour l'intervenante.",
            ),
            Message(
                "group",
                "C'est noté, nous envoyons le texte complété ce week-end. La sage-femme "
                "intervient bénévolement.",
            ),
        ),
        team_read=3,
    ),
    "Bourse aux vêtements d'hiver": Story(
        (
            Message(
                "group",
                "Bonjour, nous avons déjà trois points de dépôt (la boulangerie, la médiathèque "
                "et l'amicale des locataires). Dites-nous s'il manque quelque chose avant la "
                "publication.",
            ),
        ),
    ),
}


# ---------------------------------------------------------------------------------------------
# Illustrations, drawn by the demo itself and uploaded as a person would upload them. A motif
# is a simple scene (see _MOTIFS) with a big label; `{commune}` is the origin group's commune.


@dataclass(frozen=True)
class Picture:
    motif: str
    label: str
    line: str
    size: tuple[int, int]
    format: str  # "jpeg" or "png"
    caption: str
    alt: str
    cover: bool = False


PICTURES = {
    "Ciné-débat en plein air": (
        Picture(
            "ecran",
            "Ciné plein air",
            "Projection et débat · {commune}",
            (2400, 1350),
            "jpeg",
            "L'affiche de la première projection du groupe, sur la place du marché.",
            "Dessin d'un grand écran blanc dans la nuit, devant des rangées de spectateurs vus "
            "de dos, avec le titre « Ciné plein air ».",
            cover=True,
        ),
        Picture(
            "affiche",
            "Ciné-débat",
            "Entrée libre · 21 h",
            (1200, 1700),
            "png",
            "Le modèle d'affiche, à adapter pour votre quartier.",
            "Affiche à formes géométriques colorées, titre « Ciné-débat », entrée libre à 21 h.",
        ),
    ),
    "Atelier cuisine anti-gaspillage": (
        Picture(
            "table",
            "Cuisine anti-gaspi",
            "Invendus du marché · {commune}",
            (1800, 1200),
            "jpeg",
            "On cuisine ce que les maraîchers n'ont pas vendu, puis on remplit les bocaux.",
            "Dessin d'une longue table couverte d'assiettes et de bocaux, sous une guirlande de "
            "fanions, avec le titre « Cuisine anti-gaspi ».",
            cover=True,
        ),
    ),
    "Navette solidaire vers les services publics": (
        Picture(
            "camion",
            "Navette solidaire",
            "CAF · hôpital · sous-préfecture",
            (1600, 1000),
            "png",
            "Le minibus de la navette et ses destinations.",
            "Dessin d'un minibus sur une route, avec le titre « Navette solidaire » et ses "
            "destinations : CAF, hôpital, sous-préfecture.",
            cover=True,
        ),
    ),
    "Bibliothèque de rue": (
        Picture(
            "livres",
            "Lire dehors",
            "Chaque mercredi · 15 h",
            (1500, 2000),
            "jpeg",
            "Les caisses de livres, installées au pied des immeubles.",
            "Dessin d'étagères chargées de livres de toutes les couleurs au-dessus d'un tapis, "
            "avec le titre « Lire dehors », chaque mercredi à 15 h.",
            cover=True,
        ),
        Picture(
            "affiche",
            "Bibliothèque de rue",
            "{commune} · mercredi après-midi",
            (1800, 1200),
            "png",
            "L'affiche collée dans les halls la veille.",
            "Affiche à formes géométriques colorées avec le titre « Bibliothèque de rue ».",
        ),
    ),
    "Caravane des luttes": (
        Picture(
            "camion",
            "Caravane des luttes",
            "Trois week-ends · six étapes",
            (2400, 1500),
            "jpeg",
            "L'utilitaire de la caravane, prêt pour la première étape.",
            "Dessin d'un utilitaire sur une route, avec le titre « Caravane des luttes » : "
            "trois week-ends, six étapes.",
            cover=True,
        ),
        Picture(
            "affiche",
            "En lutte !",
            "Assemblée des collectifs",
            (1200, 1800),
            "jpeg",
            "L'affiche de l'assemblée qui réunit les collectifs rencontrés.",
            "Affiche à formes géométriques avec le titre « En lutte ! » et l'annonce de "
            "l'assemblée des collectifs.",
        ),
    ),
    "Festival populaire de quartier": (
        Picture(
            "affiche",
            "La fête !",
            "Gratuit · pour tout le monde",
            (1240, 1754),
            "png",
            "Le modèle d'affiche du festival.",
            "Affiche à formes géométriques avec le titre « La fête ! », gratuite et ouverte à "
            "tout le monde.",
        ),
        Picture(
            "scene",
            "Festival de quartier",
            "Scène ouverte · repas partagé",
            (2000, 1250),
            "jpeg",
            "La scène ouverte de l'an dernier, juste avant le concert.",
            "Dessin d'une scène sous une guirlande de fanions, avec des enceintes, une "
            "chanteuse et le public, titre « Festival de quartier ».",
            cover=True,
        ),
    ),
    "Jardin partagé en pied d'immeuble": (
        Picture(
            "jardin",
            "Jardin partagé",
            "Au pied de l'immeuble · {commune}",
            (2000, 1333),
            "jpeg",
            "Les quatre bacs de culture, après le chantier participatif.",
            "Dessin de bacs en bois plantés de légumes au soleil, devant un immeuble, avec le "
            "titre « Jardin partagé ».",
            cover=True,
        ),
        Picture(
            "jardin",
            "Première récolte",
            "Repas ouvert à tout l'immeuble",
            (1200, 1600),
            "png",
            "L'invitation au repas de la première récolte.",
            "Dessin de bacs de légumes devant un immeuble, avec le titre « Première récolte » "
            "et l'invitation à un repas ouvert à tout l'immeuble.",
        ),
    ),
    "Atelier de réparation de vélos": (
        Picture(
            "velo",
            "Atelier vélo",
            "Un samedi par mois · {commune}",
            (2400, 1600),
            "png",
            "L'atelier du groupe, un samedi matin à {commune}.",
            "Dessin d'un vélo sur fond uni, avec le titre « Atelier vélo », un samedi par mois.",
            cover=True,
        ),
        Picture(
            "affiche",
            "Répare ton vélo",
            "Outils partagés · pièces à prix coûtant",
            (1200, 1600),
            "jpeg",
            "L'affiche de l'atelier, à déposer chez les commerçant·es.",
            "Affiche à formes géométriques avec le titre « Répare ton vélo » : outils partagés, "
            "pièces à prix coûtant.",
        ),
    ),
    "Cantine solidaire de quartier": (
        Picture(
            "table",
            "Cantine solidaire",
            "Prix libre · chaque samedi midi",
            (2200, 1400),
            "jpeg",
            "Le service du samedi midi, à la cantine du quartier.",
            "Dessin d'une longue table avec assiettes et bocaux sous une guirlande de fanions, "
            "titre « Cantine solidaire », prix libre chaque samedi midi.",
            cover=True,
        ),
    ),
}


# ---------------------------------------------------------------------------------------------
# Drawing the illustrations: flat shapes and a big label, as a poster would have.

PALETTES = (
    # background, three colours, ink of the label band
    ("#f4ecd8", "#e4572e", "#29335c", "#f3a712", "#1b1b1e"),
    ("#dff3e4", "#2e8b57", "#f28f3b", "#c8553d", "#14342b"),
    ("#e8f1f8", "#1d4e89", "#f4a259", "#bc4b51", "#0b132b"),
    ("#fdf0f5", "#b5179e", "#7209b7", "#f8961e", "#240046"),
    ("#fff8e1", "#d62828", "#003049", "#fcbf49", "#1d1d1d"),
)
# A font with accented letters if the system has one; Pillow's own otherwise (then the label
# loses its accents, which that font cannot draw).
_FONT_FILES = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf", "Arial.ttf")


@functools.cache
def _font_file() -> str | None:
    for name in _FONT_FILES:
        try:
            ImageFont.truetype(name, 12)
        except OSError:
            continue
        return name
    return None


def _font(size: int):
    name = _font_file()
    return ImageFont.truetype(name, size) if name else ImageFont.load_default(size=size)


def _drawable(text: str) -> str:
    return text if _font_file() else _ascii(text)


def _fitting_font(draw: ImageDraw.ImageDraw, text: str, width: float, size: int):
    """The largest font up to `size` in which the text fits in `width` pixels."""
    while size > 12:
        font = _font(size)
        if draw.textlength(text, font=font) <= width:
            return font
        size = int(size * 0.9)
    return _font(12)


def _shapes(d, w, h, rng, colours):
    """Scattered discs, triangles and bars: the background of a poster."""
    for _ in range(16):
        x, y = rng.uniform(-0.1, 0.95) * w, rng.uniform(-0.1, 0.75) * h
        s = rng.uniform(0.08, 0.3) * min(w, h)
        colour = rng.choice(colours)
        kind = rng.randrange(3)
        if kind == 0:
            d.ellipse((x, y, x + s, y + s), fill=colour)
        elif kind == 1:
            d.polygon([(x, y + s), (x + s / 2, y), (x + s, y + s)], fill=colour)
        else:
            d.rectangle((x, y, x + s * 1.8, y + s * 0.35), fill=colour)


def _bunting(d, w, h, rng, colours, y):
    d.line([(0, y), (w / 2, y + h * 0.05), (w, y)], fill="#333333", width=max(2, w // 400))
    n = 14
    for k in range(n):
        x = w * (k + 0.5) / n
        top = y + h * 0.05 * (1 - abs(2 * x / w - 1))
        d.polygon([(x - w / 40, top), (x + w / 40, top), (x, top + h * 0.07)], fill=colours[k % 3])


def _crowd(d, w, h, rng, top, colour):
    r = w / 45
    for row, y in enumerate((top, top + 1.6 * r)):
        x = r * (1 + row)
        while x < w:
            d.ellipse((x - r, y - r, x + r, y + r), fill=colour)
            d.ellipse((x - 1.6 * r, y + r * 0.9, x + 1.6 * r, y + 3 * r), fill=colour)
            x += rng.uniform(3.2, 4.2) * r


def _motif_affiche(d, w, h, rng, colours):
    _shapes(d, w, h, rng, colours)


def _motif_ecran(d, w, h, rng, colours):
    d.rectangle((0, 0, w, h), fill="#14213d")
    for _ in range(60):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h * 0.5), rng.uniform(1, 3) * w / 1200
        d.ellipse((x - r, y - r, x + r, y + r), fill="#fefae0")
    d.rectangle((w * 0.22, h * 0.08, w * 0.78, h * 0.44), fill="#fefae0")
    d.ellipse((w * 0.3, h * 0.14, w * 0.44, h * 0.38), fill=colours[0])
    d.polygon([(w * 0.42, h * 0.4), (w * 0.58, h * 0.14), (w * 0.72, h * 0.4)], fill=colours[2])
    _crowd(d, w, h, rng, h * 0.5, "#0b0b12")


def _motif_table(d, w, h, rng, colours):
    _bunting(d, w, h, rng, colours, h * 0.05)
    d.rectangle((w * 0.06, h * 0.42, w * 0.94, h * 0.5), fill="#8d5524")
    for x in (w * 0.1, w * 0.88):
        d.rectangle((x, h * 0.5, x + w * 0.02, h * 0.64), fill="#6b3e1a")
    for k in range(9):
        x = w * (0.1 + 0.09 * k)
        if k % 3 == 2:
            d.rectangle((x, h * 0.3, x + w * 0.04, h * 0.42), fill=colours[1])
            d.rectangle((x - w * 0.004, h * 0.28, x + w * 0.044, h * 0.31), fill="#555555")
        else:
            d.ellipse((x - w * 0.01, h * 0.37, x + w * 0.06, h * 0.43), fill="#ffffff")
            d.ellipse((x + w * 0.005, h * 0.385, x + w * 0.045, h * 0.415), fill=colours[0])


def _motif_camion(d, w, h, rng, colours):
    d.rectangle((0, 0, w, h * 0.52), fill="#bde0fe")
    d.ellipse((w * 0.8, h * 0.06, w * 0.92, h * 0.06 + w * 0.12), fill="#ffd166")
    d.rectangle((0, h * 0.52, w, h * 0.64), fill="#6c757d")
    for x in range(0, w, w // 10):
        d.rectangle((x, h * 0.575, x + w // 20, h * 0.585), fill="#ffffff")
    d.rounded_rectangle((w * 0.2, h * 0.2, w * 0.66, h * 0.54), radius=w * 0.02, fill=colours[0])
    d.rounded_rectangle((w * 0.64, h * 0.3, w * 0.8, h * 0.54), radius=w * 0.02, fill=colours[0])
    d.rectangle((w * 0.68, h * 0.33, w * 0.77, h * 0.42), fill="#e0fbfc")
    d.rectangle((w * 0.24, h * 0.26, w * 0.6, h * 0.4), fill=colours[2])
    for x in (w * 0.3, w * 0.68):
        r = w * 0.05
        d.ellipse((x - r, h * 0.54 - r, x + r, h * 0.54 + r), fill="#222222")
        d.ellipse(
            (x - r / 2.5, h * 0.54 - r / 2.5, x + r / 2.5, h * 0.54 + r / 2.5), fill="#adb5bd"
        )


def _motif_livres(d, w, h, rng, colours):
    for shelf in (0.2, 0.4, 0.6):
        x = w * 0.08
        while x < w * 0.9:
            width = rng.uniform(0.025, 0.06) * w
            top = h * (shelf - rng.uniform(0.1, 0.17))
            d.rectangle((x, top, x + width, h * shelf), fill=rng.choice(colours))
            x += width + w * 0.006
        d.rectangle((w * 0.05, h * shelf, w * 0.95, h * shelf + h * 0.015), fill="#7f5539")


def _motif_scene(d, w, h, rng, colours):
    d.rectangle((0, 0, w, h), fill="#ffcad4")
    _bunting(d, w, h, rng, colours, h * 0.04)
    d.rectangle((w * 0.15, h * 0.42, w * 0.85, h * 0.5), fill="#3d405b")
    for x in (w * 0.18, w * 0.74):
        d.rectangle((x, h * 0.2, x + w * 0.08, h * 0.42), fill="#111111")
        for y in (h * 0.25, h * 0.34):
            d.ellipse((x + w * 0.02, y, x + w * 0.06, y + w * 0.04), fill="#555555")
    d.ellipse((w * 0.48, h * 0.16, w * 0.52, h * 0.16 + w * 0.04), fill="#8d5524")
    d.polygon([(w * 0.45, h * 0.42), (w * 0.5, h * 0.22), (w * 0.55, h * 0.42)], fill=colours[0])
    _crowd(d, w, h, rng, h * 0.55, "#2b2d42")


def _motif_jardin(d, w, h, rng, colours):
    d.rectangle((0, 0, w, h), fill="#caf0f8")
    d.rectangle((w * 0.55, h * 0.04, w * 0.95, h * 0.5), fill="#adb5bd")
    for row in range(5):
        for col in range(4):
            x, y = w * (0.59 + 0.09 * col), h * (0.08 + 0.08 * row)
            d.rectangle((x, y, x + w * 0.05, y + h * 0.05), fill="#e9ecef")
    d.ellipse((w * 0.06, h * 0.05, w * 0.18, h * 0.05 + w * 0.12), fill="#ffb703")
    d.rectangle((0, h * 0.5, w, h), fill="#95d5b2")
    for k in range(4):
        x = w * (0.04 + 0.24 * k)
        for _ in range(5):
            px = x + rng.uniform(0.02, 0.18) * w
            r = rng.uniform(0.025, 0.045) * w
            d.ellipse((px - r, h * 0.46 - r, px + r, h * 0.46 + r), fill="#2d6a4f")
            if rng.random() < 0.5:
                d.ellipse((px - r / 3, h * 0.45, px + r / 3, h * 0.45 + r / 1.5), fill="#d62828")
        d.rectangle((x, h * 0.47, x + w * 0.2, h * 0.6), fill="#7f5539")


def _motif_velo(d, w, h, rng, colours):
    line = max(6, w // 110)
    r = w * 0.13
    back, front = (w * 0.3, h * 0.4), (w * 0.7, h * 0.4)
    for cx, cy in (back, front):
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline="#222222", width=line)
        d.ellipse((cx - line, cy - line, cx + line, cy + line), fill="#222222")
    crank = (w * 0.47, h * 0.4)
    seat, head = (w * 0.43, h * 0.14), (w * 0.64, h * 0.16)
    for a, b in ((back, crank), (crank, seat), (seat, back), (seat, head), (head, crank)):
        d.line([a, b], fill=colours[1], width=line * 2)
    d.line([head, front], fill=colours[1], width=line * 2)
    saddle, bar, gear = seat[1] - h * 0.02, line * 2, w * 0.03
    d.line([(seat[0] - w * 0.04, saddle), (seat[0] + w * 0.03, saddle)], fill="#222222", width=bar)
    d.line([head, (head[0] + w * 0.03, head[1] - h * 0.06)], fill="#222222", width=bar)
    x, y = crank
    d.ellipse((x - gear, y - gear, x + gear, y + gear), outline=colours[2], width=line)


_MOTIFS = {
    "affiche": _motif_affiche,
    "ecran": _motif_ecran,
    "table": _motif_table,
    "camion": _motif_camion,
    "livres": _motif_livres,
    "scene": _motif_scene,
    "jardin": _motif_jardin,
    "velo": _motif_velo,
}


def draw_picture(picture: Picture, commune: str, seed: str) -> bytes:
    """The picture as an uploaded file: a JPEG or PNG as a phone or a graphics tool writes it,
    metadata included (the upload processing removes it)."""
    rng = random.Random(seed)
    background, *colours, ink = rng.choice(PALETTES)
    w, h = picture.size
    image = Image.new("RGB", (w, h), background)
    d = ImageDraw.Draw(image)
    _MOTIFS[picture.motif](d, w, h, rng, colours)
    # The label band: the title, big, and a line under it.
    top = h * (0.66 if w > h else 0.64)
    d.rectangle((0, top, w, h * 0.93), fill=ink)
    margin = w * 0.06
    label = _drawable(picture.label)
    font = _fitting_font(d, label, w - 2 * margin, int(h * (0.13 if w > h else 0.09)))
    d.text((margin, top + h * 0.025), label, font=font, fill=background)
    line = _drawable(picture.line.format(commune=commune))
    small = _fitting_font(d, line, w - 2 * margin, int(font.size * 0.38))
    d.text((margin, top + h * 0.04 + font.size * 1.05), line, font=small, fill=background)
    out = io.BytesIO()
    if picture.format == "jpeg":
        exif = Image.Exif()
        exif[0x010F] = "Commun"  # Make
        exif[0x0110] = "Démo"  # Model
        exif[0x0131] = "flask demo"  # Software
        image.save(out, "JPEG", quality=90, exif=exif)
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", "flask demo")
        image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Money: earmarked donations into every certified group's envelope, recorded by the finance team
# from the donations system's file every fortnight, and spending requests in every status.

DONATIONS_SINCE_DAYS = 300
IMPORT_EVERY_DAYS = 14
# Euros of one donation and how often each comes: small gifts are the most frequent…
DONATION_EUROS = (20, 25, 30, 40, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300)
DONATION_WEIGHTS = (8, 8, 9, 8, 12, 6, 5, 4, 8, 3, 4, 3, 1, 2)
# … except for the groups whose supporters give more, and more often.
GENEROUS_WEIGHTS = (1, 1, 2, 2, 6, 4, 5, 4, 10, 6, 8, 7, 4, 5)
GENEROUS_GROUPS = 5  # the demo manager's two groups among them
# The group whose envelope is nearly empty: two small donations, then a paid expense.
NEARLY_EMPTY_DONATIONS = (20, 25)
# French banks' codes (the first five digits of a RIB), for the payees' IBANs.
BANK_CODES = ("30004", "30003", "20041", "10278", "42559", "30002", "11315", "16606", "13335")

# The donations system, where donations come from, and the payees, where payments go.
OUTSIDE_ACCOUNTS = (AccountKind.donations, AccountKind.payees)

SC = SpendingCategory
SS = SpendingStatus


@dataclass(frozen=True)
class Expense:
    """A spending request of the demo and what happened to it, step by step (see _steps)."""

    title: str
    category: SpendingCategory
    status: SpendingStatus
    # Whose request: one of the demo manager's groups ("referent", "manager"), the group whose
    # envelope is nearly empty ("nearly_empty"), or another certified group ("other").
    group: str
    lines: tuple[tuple[str, int], ...]  # what the receipts list, in cents; the amount is the sum
    issuer: str  # the shop or supplier on the receipts ({commune}: the group's commune)
    explanation: str
    # The receipts: "pdf" (an invoice), "jpeg" (a phone photo of a till receipt), "png" (a
    # screenshot of an online purchase); the lines are shared out among them.
    receipts: tuple[str, ...] = ("pdf",)
    # Paid back to its author, who advanced the money; otherwise paid to the issuer.
    reimburse: bool = False
    author: str = "co"  # on the demo manager's groups: "me" (the demo manager) or "co"
    action: str | None = None  # the proposal whose commitment of the group it is linked to
    days: float = 10  # created that many days ago (later if its reservation is more recent)
    validation: str = ""  # the second manager's comment
    question: str = ""  # the finance team's question
    answer: str = ""  # the group's answer, after which the review went on
    refusal: str = ""
    split: bool = False  # charged partly to the round, partly to the envelope (checked)

    @property
    def amount_cents(self) -> int:
        return sum(cents for _, cents in self.lines)


CANTINE = "Cantine solidaire de quartier"
VELOS = "Atelier de réparation de vélos"

EXPENSES = (
    # The demo manager's group where they are referent: a request in nearly every status.
    Expense(
        "Banderole et affiches pour la cantine solidaire",
        SC.printing,
        SS.draft,
        "referent",
        (("Banderole PVC 300 × 80 cm avec œillets", 4850), ("Affiches A3 couleur × 40", 1630)),
        "Imprimerie du Pont de Pierre",
        "La banderole ira sur la façade du centre social les jours de cantine, les affiches dans "
        "les halls de la cité. Facture à régler par virement à l'imprimerie.",
        author="me",
        action=CANTINE,
        days=2,
    ),
    Expense(
        "Location de la salle de la Benauge pour l'assemblée de quartier",
        SC.room_hire,
        SS.draft,
        "referent",
        (("Salle polyvalente, samedi de 14 h à 19 h", 9000), ("Ménage après occupation", 3000)),
        "Maison de quartier de la Benauge",
        "Assemblée ouverte aux habitant·es pour choisir les prochaines actions du groupe. La "
        "maison de quartier envoie sa facture après la réunion : je la joindrai à ce moment-là.",
        receipts=(),
        author="me",
        days=1,
    ),
    Expense(
        "Courses pour la cantine solidaire du samedi",
        SC.consumables,
        SS.awaiting_group,
        "referent",
        (
            ("Légumes de saison", 3860),
            ("Riz, lentilles et huile", 2245),
            ("Épices et condiments", 890),
            ("Gobelets et serviettes compostables", 1240),
        ),
        "Épicerie coopérative de la Bastide",
        "Courses du deuxième repas de la cantine (58 couverts), en deux passages à l'épicerie "
        "coopérative. J'ai avancé l'argent : les deux tickets sont joints.",
        receipts=("jpeg", "jpeg"),
        reimburse=True,
        action=CANTINE,
        days=3,
    ),
    Expense(
        "Train Bordeaux – Agen pour la rencontre régionale des groupes",
        SC.travel,
        SS.awaiting_group,
        "referent",
        (
            ("Aller Bordeaux → Agen, 2 voyageurs", 3120),
            ("Retour Agen → Bordeaux, 2 voyageurs", 3120),
        ),
        "Billet TER Nouvelle-Aquitaine",
        "Deux membres du groupe à la rencontre régionale des groupes d'action du Sud-Ouest. "
        "Billets achetés en ligne au tarif week-end.",
        receipts=("png",),
        reimburse=True,
        author="me",
        days=4,
    ),
    Expense(
        "Marmite et bacs gastronormes pour la cantine",
        SC.equipment_purchase,
        SS.info_requested,
        "referent",
        (
            ("Marmite inox 50 L avec couvercle", 6990),
            ("Bacs gastronormes GN 1/1 × 4", 3596),
            ("Louches et écumoires", 1404),
        ),
        "Équip'Cuisine Pro",
        "Le matériel prévu au budget de la cantine : la marmite prêtée par le centre social ne "
        "suffit plus depuis que nous servons plus de cinquante repas.",
        receipts=("jpeg",),
        reimburse=True,
        action=CANTINE,
        days=9,
        validation="Vu, conforme à la ligne « Marmites et bacs gastronormes » de l'action.",
        question="Le ticket joint est coupé en bas : le total et le mode de paiement n'y figurent "
        "pas. Pouvez-vous ajouter une photo du ticket entier, ou la facture du magasin ?",
    ),
    Expense(
        "Caisse à outils et pied d'atelier pour l'atelier vélos",
        SC.equipment_purchase,
        SS.approved,
        "referent",
        (("Caisse à outils vélo, 38 pièces", 13490), ("Pied d'atelier pliable", 5160)),
        "Cycles et Récup' Bastide",
        "Le matériel de base de l'atelier, acheté à l'atelier associatif du quartier, qui nous a "
        "fait un prix.",
        action=VELOS,
        days=24,
        validation="OK pour moi.",
    ),
    Expense(
        "Chambres à air, câbles et patins pour l'atelier vélos",
        SC.consumables,
        SS.approved,
        "referent",
        (
            ("Chambres à air 26 pouces et 700C × 20", 8400),
            ("Câbles et gaines de frein × 15", 3150),
            ("Patins de frein × 12 paires", 2680),
        ),
        "Cycles et Récup' Bastide",
        "Le stock de pièces des trois premières séances de l'atelier ; il en reste pour la "
        "suivante.",
        receipts=("jpeg",),
        reimburse=True,
        author="me",
        action=VELOS,
        days=14,
        question="Cette dépense dépasse ce qui reste de la réservation du groupe pour l'atelier "
        "vélos : la différence sera prise sur l'enveloppe du groupe. Êtes-vous d'accord ?",
        answer="Oui, c'est d'accord : le stock servira aussi aux séances suivantes, la différence "
        "peut être prise sur notre enveloppe.",
        split=True,
    ),
    Expense(
        "Affiches et tracts du premier repas de la cantine",
        SC.printing,
        SS.paid,
        "referent",
        (("Affiches A3 couleur × 30", 1890), ("Tracts A5 recto verso × 500", 1910)),
        "Imprimerie du Pont de Pierre",
        "Pour annoncer le premier repas : affiches dans les halls, tracts au marché et à la "
        "sortie des écoles.",
        author="me",
        action=CANTINE,
        days=30,
    ),
    Expense(
        "Repas de l'équipe après la fête de quartier",
        SC.consumables,
        SS.refused,
        "referent",
        (("Menus du jour × 8", 8800), ("Boissons", 1560)),
        "Brasserie du Pont de Pierre",
        "Repas des huit bénévoles après le démontage de la fête de quartier.",
        receipts=("jpeg",),
        reimburse=True,
        author="me",
        days=40,
        refusal="Les repas que les bénévoles prennent entre eux ne sont pas remboursés, même "
        "après une longue journée : l'enveloppe finance ce qui sert aux habitant·es. Les "
        "boissons et denrées servies pendant la fête peuvent l'être : déposez-les dans une "
        "demande à part.",
    ),
    # The demo manager's other group.
    Expense(
        "Sonorisation de la réunion publique sur les loyers",
        SC.technical_hire,
        SS.approved,
        "manager",
        (
            ("Sono 2 enceintes et console, 1 jour", 12000),
            ("Micros sans fil × 2", 3000),
            ("Livraison et reprise", 3000),
        ),
        "Sono Garonne Location",
        "Réunion publique du groupe sur la hausse des loyers, place Saint-Michel : plus de 150 "
        "personnes attendues, la voix ne porte pas sans sono.",
        author="me",
        days=18,
    ),
    Expense(
        "Camionnette pour la collecte de fournitures scolaires",
        SC.vehicle_hire,
        SS.awaiting_finance,
        "manager",
        (
            ("Utilitaire 12 m³, 1 journée", 6900),
            ("Kilomètres supplémentaires (40 km)", 1200),
            ("Complément de carburant", 1200),
        ),
        "Location Utilitaires Bordeaux-Sud",
        "Pour ramasser les fournitures données dans les quatre écoles du quartier et les "
        "apporter au local avant la distribution.",
        action="Distribution de fournitures scolaires",
        days=6,
        validation="Validé : c'est la camionnette de la collecte, prévue au budget de l'action.",
    ),
    Expense(
        "Abonnement annuel à l'outil de visioconférence du groupe",
        SC.subscription,
        SS.paid,
        "manager",
        (("Abonnement association, 12 mois", 7200),),
        "Visio Coop",
        "Pour les réunions du groupe à distance : plusieurs membres travaillent en horaires "
        "décalés. Une coopérative, sans publicité ni revente de données.",
        days=60,
    ),
    # The group whose envelope is nearly empty.
    Expense(
        "Photocopies du journal de quartier",
        SC.printing,
        SS.paid,
        "nearly_empty",
        (("Photocopies A3 recto verso × 300", 3600), ("Agrafage", 530)),
        "Copy-Centre de la République",
        "Le numéro 3 du journal du groupe, distribué dans les boîtes aux lettres de la cité.",
        receipts=("jpeg",),
        reimburse=True,
        days=50,
    ),
    Expense(
        "Location d'un barnum pour le vide-grenier solidaire",
        SC.equipment_hire,
        SS.awaiting_finance,
        "nearly_empty",
        (("Barnum 3 × 6 m, un week-end", 5500), ("Lests de 15 kg × 4", 1300)),
        "Barnums et Tables Location",
        "Pour abriter le stand du groupe au vide-grenier. Nous savons que l'enveloppe est "
        "presque vide : une collecte est en cours, les premiers dons arrivent ce mois-ci.",
        days=5,
    ),
    # Other groups: this year's actions…
    Expense(
        "Terreau, compost et plants pour les bacs du jardin",
        SC.consumables,
        SS.awaiting_finance,
        "other",
        (
            ("Terreau universel 50 L × 12", 8280),
            ("Compost 40 L × 6", 2940),
            ("Plants de saison × 24", 1420),
        ),
        "Pépinière des Coteaux",
        "Premier remplissage des six bacs construits le mois dernier avec les locataires.",
        receipts=("jpeg", "pdf"),
        reimburse=True,
        action="Jardin partagé en pied d'immeuble",
        days=7,
        validation="Conforme au budget du jardin.",
    ),
    Expense(
        "Abonnement à une documentation juridique en ligne",
        SC.subscription,
        SS.approved,
        "other",
        (("Abonnement annuel, accès pour 2 postes", 5900),),
        "Juridoc Associations",
        "Des fiches à jour sur le droit au logement, les prestations sociales et les recours : "
        "indispensable aux bénévoles de la permanence.",
        action="Permanence d'accès aux droits",
        days=20,
    ),
    Expense(
        "Nuitées en auberge de jeunesse pour la rencontre nationale",
        SC.accommodation,
        SS.approved,
        "other",
        (("Nuitée en dortoir, petit-déjeuner compris × 3", 8100),),
        "Auberge de jeunesse de la Cité",
        "Trois membres du groupe à la rencontre nationale des groupes d'action ; c'est "
        "l'hébergement le moins cher que nous ayons trouvé.",
        days=22,
    ),
    Expense(
        "Imprimante laser couleur pour le local",
        SC.equipment_purchase,
        SS.refused,
        "other",
        (("Imprimante laser couleur A4", 28900),),
        "Bureau Plus {commune}",
        "Pour imprimer nous-mêmes tracts et affiches au local, au lieu de passer par l'imprimerie.",
        days=26,
        refusal="L'enveloppe ne finance pas le matériel de bureau durable de plus de 150 € : le "
        "pôle national prête des imprimantes aux groupes qui en ont besoin. Écrivez-lui, il "
        "vous en enverra une.",
    ),
    Expense(
        "Location de la salle des fêtes pour le ciné-débat",
        SC.room_hire,
        SS.info_requested,
        "other",
        (("Salle des fêtes, une soirée", 12000), ("Forfait chauffage", 3000)),
        "Mairie de {commune}, régie des salles",
        "Projection suivie d'un débat avec la réalisatrice ; quatre-vingts personnes attendues.",
        days=8,
        question="La facture est au nom de l'amicale des locataires, pas du groupe : est-ce "
        "l'amicale qui a payé la salle ? Dans ce cas, c'est elle qu'il faut rembourser : "
        "indiquez son nom et son IBAN.",
    ),
    Expense(
        "Billets de TER pour la formation aux premiers secours",
        SC.travel,
        SS.awaiting_group,
        "other",
        (("Aller-retour, 3 voyageurs", 4260),),
        "Billet TER",
        "Trois membres du groupe à la formation PSC1 organisée par l'union départementale.",
        receipts=("png",),
        reimburse=True,
        days=2,
    ),
    # … and last year's, paid long ago.
    Expense(
        "Nettoyeur vapeur pour la brigade contre les punaises de lit",
        SC.equipment_purchase,
        SS.paid,
        "other",
        (
            ("Nettoyeur vapeur professionnel 5 bars", 21900),
            ("Housses de matelas anti-punaises × 2", 2780),
        ),
        "Hygiène Habitat Services",
        "Le nettoyeur est prêté aux locataires avec une fiche d'utilisation ; les housses sont "
        "pour les deux premières familles accompagnées.",
        action="Brigade contre les punaises de lit",
        days=200,
    ),
    Expense(
        "Train des intervenant·es de l'université populaire",
        SC.travel,
        SS.paid,
        "other",
        (
            ("Aller-retour de l'intervenante de mars", 11840),
            ("Aller-retour de l'intervenant d'avril", 12480),
        ),
        "Intercités, vente en ligne",
        "Les billets des deux intervenant·es des séances de mars et d'avril, achetés par le "
        "groupe. Ils coûtent plus que le défraiement prévu : le reste sur notre enveloppe.",
        receipts=("png", "pdf"),
        reimburse=True,
        action="Université populaire du samedi",
        days=180,
        validation="D'accord pour prendre le reste sur l'enveloppe.",
        split=True,
    ),
    Expense(
        "Premier stock de l'épicerie solidaire",
        SC.consumables,
        SS.paid,
        "other",
        (
            ("Pâtes, riz et semoule", 11460),
            ("Huile, sucre et farine", 8930),
            ("Conserves de légumes et légumineuses", 7220),
            ("Produits d'hygiène de base", 3650),
        ),
        "Coopérative d'achats solidaires",
        "La première commande groupée de l'épicerie : une trentaine de produits de base choisis "
        "avec les premier·es client·es.",
        action="Épicerie solidaire à prix coûtant",
        days=230,
    ),
)

SPENDING_LABELS = {
    SS.draft: ("brouillon", "brouillons"),
    SS.awaiting_group: ("à valider par le groupe", "à valider par le groupe"),
    SS.awaiting_finance: ("en examen", "en examen"),
    SS.info_requested: ("en attente d'une réponse du groupe", "en attente d'une réponse du groupe"),
    SS.approved: ("approuvée", "approuvées"),
    SS.paid: ("payée", "payées"),
    SS.refused: ("refusée", "refusées"),
}


def _steps(expense: Expense) -> list[tuple[str, SpendingStatus]]:
    """The actions of a request's timeline, each with the status it leads to, as the services
    log them (services.spending)."""
    status = expense.status
    steps = [("created", SS.draft)]
    if status != SS.draft:
        steps.append(("submitted", SS.awaiting_group))
    if status not in (SS.draft, SS.awaiting_group):
        steps.append(("validated", SS.awaiting_finance))
        if expense.question:
            steps.append(("info_requested", SS.info_requested))
            if expense.answer:
                steps.append(("answered", SS.awaiting_finance))
    if status in (SS.approved, SS.paid):
        steps.append(("approved", SS.approved))
    if status == SS.paid:
        steps.append(("paid", SS.paid))
    if status == SS.refused:
        steps.append(("refused", SS.refused))
    if steps[-1][1] != status:
        raise RuntimeError(f"the timeline of the demo request {expense.title!r} ends elsewhere")
    return steps


def french_iban(rng: random.Random) -> str:
    """A French IBAN as banks issue them: a bank code, a branch, an account number and its RIB
    key, then the IBAN's check digits (ISO 13616: the number read as digits is 1 modulo 97)."""
    bank, branch = rng.choice(BANK_CODES), f"{rng.randrange(10**5):05d}"
    number = f"{rng.randrange(10**11):011d}"
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(number)) % 97
    bban = f"{bank}{branch}{number}{key:02d}"
    check = 98 - int(bban + "1527" + "00") % 97  # "FR" read as digits, check digits at 00
    return f"FR{check:02d}{bban}"


# ---------------------------------------------------------------------------------------------
# Drawing the receipts: an invoice in PDF, a phone photo of a till receipt, a screenshot of an
# online purchase, as a group manager would upload them.


@dataclass(frozen=True)
class ReceiptText:
    """What a receipt says."""

    issuer: str
    commune: str
    client: str  # the group's name, or the passenger's
    number: str
    moment: datetime  # Paris time
    lines: tuple[tuple[str, int], ...]
    paid: bool  # paid at the counter or online; else an invoice to pay by transfer


def _money_text(cents: int) -> str:
    return format_cents(cents).replace("\u202f", " ").replace("\xa0", " ")


def _pdf_string(text: str) -> bytes:
    data = text.replace("\u202f", " ").replace("\xa0", " ").encode("cp1252", "replace")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


# Helvetica's widths in thousandths of the font size, for the few characters of an amount.
_HELVETICA_WIDTHS = {",": 278, " ": 278, "€": 556, "-": 333}


def _pdf_width(text: str, size: float) -> float:
    return sum(_HELVETICA_WIDTHS.get(c, 556) for c in text) * size / 1000


def invoice_pdf(receipt: ReceiptText) -> bytes:
    """A one-page PDF invoice, written by hand as small PDF writers do: two standard fonts,
    one compressed content stream, a cross-reference table and its end."""
    ops: list[bytes] = []

    def text(x: float, y: float, value: str, size: float = 10, bold: bool = False) -> None:
        font = b"/F2" if bold else b"/F1"
        ops.append(b"BT %s %g Tf %g %g Td %s Tj ET" % (font, size, x, y, _pdf_string(value)))

    def right(y: float, value: str, size: float = 10, bold: bool = False) -> None:
        text(545 - _pdf_width(value, size), y, value, size, bold)

    def rule(y: float) -> None:
        ops.append(b"0.6 w 50 %g m 545 %g l S" % (y, y))

    text(50, 780, receipt.issuer, 18, bold=True)
    text(50, 762, receipt.commune)
    text(50, 712, f"FACTURE N° {receipt.number}", 14, bold=True)
    text(50, 694, f"Date : {receipt.moment:%d/%m/%Y}")
    text(320, 712, "Client", bold=True)
    text(320, 696, receipt.client)
    y = 640
    text(50, y, "Désignation", bold=True)
    right(y, "Montant TTC", bold=True)
    rule(y - 7)
    for label, cents in receipt.lines:
        y -= 22
        text(50, y, label)
        right(y, _money_text(cents))
    rule(y - 9)
    total = sum(cents for _, cents in receipt.lines)
    y -= 30
    text(320, y, "Total TTC", 12, bold=True)
    right(y, _money_text(total), 12, bold=True)
    y -= 18
    text(320, y, "dont TVA 20 %")
    right(y, _money_text(round(total / 6)))
    y -= 50
    if receipt.paid:
        text(50, y, f"Facture acquittée : réglée par carte bancaire le {receipt.moment:%d/%m/%Y}.")
    else:
        text(50, y, "À régler par virement à réception de la facture. Merci de votre confiance !")
    content = zlib.compress(b"\n".join(ops))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Producer (Commun, flask demo) /Title %s >>"
        % _pdf_string(f"Facture {receipt.number}"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(out)


def _paper_lines(draw: ImageDraw.ImageDraw, rows, x0: float, x1: float, y: float, font, ink):
    """Label on the left, amount on the right, one row after the other; the next y."""
    for label, amount in rows:
        label = _drawable(label)
        if amount:
            width = draw.textlength(amount, font=font)
            draw.text((x1 - width, y), amount, font=font, fill=ink)
            while draw.textlength(label, font=font) > x1 - x0 - width - 12 and len(label) > 4:
                label = label[:-2] + "…"
        draw.text((x0, y), label, font=font, fill=ink)
        y += font.size * 1.45
    return y


def till_receipt_photo(receipt: ReceiptText, seed: str) -> bytes:
    """A phone photo of a till receipt: the narrow paper slightly askew on a table, as a JPEG
    with the phone's metadata (the receipt processing removes it)."""
    rng = random.Random(seed)
    ink, font = (40, 40, 48), _font(16)
    width, height = 360, 310 + int(len(receipt.lines) * 16 * 1.45)
    paper = Image.new("RGB", (width, height), (250, 248, 240))
    d = ImageDraw.Draw(paper)
    issuer = _drawable(receipt.issuer.upper())
    big = _fitting_font(d, issuer, width - 40, 21)
    d.text(((width - d.textlength(issuer, font=big)) / 2, 24), issuer, font=big, fill=ink)
    commune = _drawable(receipt.commune)
    d.text(((width - d.textlength(commune, font=font)) / 2, 54), commune, font=font, fill=ink)
    y = _paper_lines(
        d,
        [(f"{receipt.moment:%d/%m/%Y  %H:%M}", f"n° {receipt.number}")],
        24,
        width - 24,
        96,
        font,
        ink,
    )
    d.line((24, y + 4, width - 24, y + 4), fill=ink, width=1)
    rows = [(label, _money_text(cents)) for label, cents in receipt.lines]
    y = _paper_lines(d, rows, 24, width - 24, y + 16, font, ink)
    d.line((24, y + 4, width - 24, y + 4), fill=ink, width=2)
    total = _money_text(sum(cents for _, cents in receipt.lines))
    y = _paper_lines(
        d, [("TOTAL TTC", total), ("CB SANS CONTACT", total)], 24, width - 24, y + 14, font, ink
    )
    thanks = "MERCI DE VOTRE VISITE"
    d.text(((width - d.textlength(thanks, font=font)) / 2, y + 18), thanks, font=font, fill=ink)
    paper = paper.crop((0, 0, width, min(height, int(y + 18 + font.size + 30))))
    table = rng.choice(((121, 92, 66), (88, 96, 104), (150, 128, 102)))
    paper = paper.rotate(
        rng.uniform(-4, 4), expand=True, fillcolor=table, resample=Image.Resampling.BILINEAR
    )
    photo = Image.new("RGB", (paper.width + 80, paper.height + 100), table)
    photo.paste(paper, (40, 50))
    exif = Image.Exif()
    exif[0x010F] = "Commun"  # Make
    exif[0x0110] = "Démo"  # Model
    exif[0x0131] = "flask demo"  # Software
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def purchase_screenshot(receipt: ReceiptText, seed: str) -> bytes:
    """A screenshot of an online purchase (a train ticket): a PNG as a phone saves it."""
    rng = random.Random(seed)
    ink, font, big = (30, 34, 48), _font(17), _font(23)
    width = 480
    height = 440 + int(len(receipt.lines) * 17 * 1.45)
    band = rng.choice(((20, 90, 160), (150, 30, 60), (30, 110, 90)))
    image = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(image)
    d.rectangle((0, 0, width, 84), fill=band)
    d.text(
        (24, 27),
        _drawable(receipt.issuer),
        font=_fitting_font(d, receipt.issuer, width - 48, 24),
        fill="white",
    )
    y = _paper_lines(
        d,
        [
            ("Commande confirmée", f"n° {receipt.number}"),
            (f"Voyageur·euse : {receipt.client}", ""),
            (f"Achat le {receipt.moment:%d/%m/%Y à %H:%M}", ""),
        ],
        24,
        width - 24,
        108,
        font,
        ink,
    )
    d.line((24, y + 6, width - 24, y + 6), fill=(200, 200, 210), width=2)
    rows = [(label, _money_text(cents)) for label, cents in receipt.lines]
    y = _paper_lines(d, rows, 24, width - 24, y + 20, font, ink)
    total = _money_text(sum(cents for _, cents in receipt.lines))
    y = _paper_lines(d, [("Total payé par carte", total)], 24, width - 24, y + 12, big, ink)
    # A QR code's look, to show at the ticket inspection.
    cell, size = 6, 21
    left, top = (width - cell * size) / 2, y + 20
    for row in range(size):
        for column in range(size):
            if rng.random() < 0.5:
                x, z = left + column * cell, top + row * cell
                d.rectangle((x, z, x + cell - 1, z + cell - 1), fill=ink)
    image = image.crop((0, 0, width, int(top + cell * size + 28)))
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "flask demo")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, compress_level=1)  # as fast as a phone saves it
    return out.getvalue()


def receipt_file(kind: str, receipt: ReceiptText, seed: str) -> tuple[str, bytes]:
    """The file's name, as the phone or the supplier named it, and its bytes."""
    if kind == "pdf":
        return f"facture-{receipt.number.lower()}.pdf", invoice_pdf(receipt)
    if kind == "jpeg":
        return f"IMG_{receipt.moment:%Y%m%d_%H%M%S}.jpg", till_receipt_photo(receipt, seed)
    name = f"Capture d'écran {receipt.moment:%Y-%m-%d à %H.%M.%S}.png"
    return name, purchase_screenshot(receipt, seed)


# ---------------------------------------------------------------------------------------------
# Helpers.


def _ascii(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


# When people file, validate and review requests: from 8 a.m. to 10 p.m., Paris time.
WAKING_FROM, WAKING_TO = 8, 22
WAKING_HOURS = WAKING_TO - WAKING_FROM


def _waking(moment: datetime) -> datetime:
    """The moment, moved within its day (Paris time) into waking hours."""
    local = moment.astimezone(PARIS)
    start = local.replace(hour=WAKING_FROM, minute=0, second=0, microsecond=0)
    end = local.replace(hour=WAKING_TO - 1, minute=59, second=0, microsecond=0)
    return min(max(local, start), end).astimezone(UTC)


def _after_waking(moment: datetime, hours: float) -> datetime:
    """`hours` of waking time after the moment (itself in waking hours): nights are skipped."""
    local = moment.astimezone(PARIS)
    while True:
        end = local.replace(hour=WAKING_TO, minute=0, second=0, microsecond=0)
        left = (end - local).total_seconds() / 3600
        if hours < left:
            return (local + timedelta(hours=hours)).astimezone(UTC)
        hours -= left
        local = (local + timedelta(days=1)).replace(
            hour=WAKING_FROM, minute=0, second=0, microsecond=0
        )


def _lower(name: str) -> str:
    """« Groupe d'action Lens » as written inside a sentence: « groupe d'action Lens »."""
    return name[:1].lower() + name[1:]


def _euros(cents: int, sep: str = "\u202f") -> str:
    return f"{cents // 100:,}".replace(",", sep) + " €"


def _how_to(spec: Spec) -> str:
    """« Comment faire »: the steps, the material and the tips, in Markdown."""
    lines = [f"{n}. {step}" for n, step in enumerate(spec.steps, 1)]
    lines += ["", "### Matériel", ""]
    lines += [f"- {item}" for item in spec.material]
    if spec.tips:
        lines += ["", "### Conseils", "", spec.tips]
    return "\n".join(lines)


def _budget_cents(spec: Spec) -> int:
    return sum(euros for _, euros in spec.lines) * 100


def _text(spec: Spec) -> ProposalText:
    """The proposal's text as an editor saves it (services.proposals.text_of reads it back)."""
    return ProposalText(
        title=spec.title,
        summary=spec.summary,
        body=spec.why,
        how_to=_how_to(spec),
        category=spec.category.value,
        per_group_budget_cents=_budget_cents(spec),
        budget_lines=tuple((item, euros * 100) for item, euros in spec.lines),
    ).cleaned()


def _versions(spec: Spec, story: Story | None) -> list[ProposalText]:
    """The text at each revision, the creation first: the Spec is the last one, and each Edit
    of the story, walked back, gives the one before it."""
    specs = [spec]
    edits = [event for event in story.events if isinstance(event, Edit)] if story else []
    for edit in reversed(edits):
        specs.append(replace(specs[-1], **edit.before))
    return [_text(s) for s in reversed(specs)]


def _changes(old: dict, new: dict) -> dict:
    """{field: [old, new]} as services.proposals records it."""
    return {name: [old[name], new[name]] for name in new if old.get(name) != new[name]}


def _group_specs() -> list[tuple[tuple[str, str | None], str, str, str]]:
    """(key, name, commune, département) of every demo group, in a stable order."""
    specs = []
    for commune, dep, quarters in CITY_QUARTERS:
        for quarter in quarters:
            specs.append(((commune, quarter), f"Groupe d'action {commune} {quarter}", commune, dep))
    for commune, dep in TOWNS:
        specs.append(((commune, None), f"Groupe d'action {commune}", commune, dep))
    return specs


class _Emails:
    """Unique generated addresses: prenom.nom@, then prenom.nom2@…"""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def __call__(self, first: str, last: str) -> str:
        local = ".".join(
            re.sub(r"[^a-z0-9]+", "-", _ascii(part).lower()).strip("-") for part in (first, last)
        )
        email, n = f"{local}@{DEMO_DOMAIN}", 1
        while email in self.taken:
            n += 1
            email = f"{local}{n}@{DEMO_DOMAIN}"
        self.taken.add(email)
        return email


def _fundable_transition(
    events: list[tuple[datetime, str, int]], base_threshold: int
) -> tuple[datetime, int, int] | None:
    """Replay commitments (+1), withdrawals (-1) and threshold changes in time order.

    Returns (moment, threshold in force, count) of the first commit or threshold change
    after which the count reached the threshold, as record_fundable_if_reached records it;
    None if it never did.
    """
    count, threshold = 0, base_threshold
    for at, kind, value in sorted(events, key=lambda event: event[0]):
        if kind == "commit":
            count += 1
        elif kind == "withdraw":
            count -= 1
            continue  # a withdrawal never makes a proposal fundable
        else:
            threshold = value
        if count >= threshold:
            return at, threshold, count
    return None


def _audit(
    at: datetime,
    actor: Person,
    action: str,
    group_id: int | None = None,
    proposal_id: int | None = None,
    old: str = "",
    new: str = "",
    reason: str = "",
    round_id: int | None = None,
) -> AuditEntry:
    # Every column given, so that the rows are inserted in one batch.
    return AuditEntry(
        at=at,
        actor_id=actor.id,
        action=action,
        group_id=group_id,
        proposal_id=proposal_id,
        person_id=None,
        round_id=round_id,
        old_value=str(old),
        new_value=new,
        reason=reason,
    )


def _paris_midnight(moment: datetime) -> datetime:
    """The start of that day in Paris, in UTC: rounds open and close at midnight."""
    local = moment.astimezone(PARIS)
    return datetime(local.year, local.month, local.day, tzinfo=PARIS).astimezone(UTC)


@dataclass
class _Funding:
    """A fundable proposal's part in the replay of its round's reservations."""

    proposal: Proposal
    fundable_at: datetime
    # Its commitments active at the end, in commitment order (none was withdrawn after the
    # transition: the demo's withdrawals all come before it).
    commitments: list[Commitment]


@dataclass
class _Replay:
    """What replaying a round's fundable transitions and later commitments reserved."""

    # (funding, commitment, reserved_at), in the order the reservations were made.
    reserved: list[tuple[_Funding, Commitment, datetime]]
    reserved_cents: int
    # Fundable proposal id -> its active commitments left without a reservation.
    outside: dict[int, int]


def _replay_reservations(total_cents: int, fundings: list[_Funding]) -> _Replay | None:
    """Replay, in time order, what services.budget does with a manual-policy round: at a
    proposal's fundable transition each of its active commitments reserves the per-group
    budget, in commitment order, while the remaining budget allows; a later commitment
    reserves at once if it can. None if a transition would find nothing remaining (the
    proposal could not have become fundable)."""
    events = []
    for n, funding in enumerate(fundings):
        before = [c for c in funding.commitments if c.committed_at < funding.fundable_at]
        events.append((funding.fundable_at, n, funding, before, True))
        events += [
            (c.committed_at, n, funding, [c], False)
            for c in funding.commitments
            if c.committed_at > funding.fundable_at
        ]
    events.sort(key=lambda event: (event[0], event[1]))
    reserved, reserved_cents = [], 0
    for at, _n, funding, batch, transition in events:
        amount = funding.proposal.per_group_budget_cents
        if transition and total_cents - reserved_cents <= 0:
            return None
        for commitment in batch:
            if amount > total_cents - reserved_cents:
                break  # every commitment of a batch asks the same amount
            reserved_cents += amount
            reserved.append((funding, commitment, at))
    counts: dict[int, int] = {}
    for funding, _c, _at in reserved:
        counts[funding.proposal.id] = counts.get(funding.proposal.id, 0) + 1
    outside = {
        f.proposal.id: len(f.commitments) - counts.get(f.proposal.id, 0)
        for f in fundings
        if len(f.commitments) > counts.get(f.proposal.id, 0)
    }
    return _Replay(reserved, reserved_cents, outside)


def _current_round_total(fundings: list[_Funding], outside: dict[int, int]) -> tuple[int, _Replay]:
    """The current round's total, and its replay: the largest multiple of
    ROUND_TOTAL_STEP_CENTS that leaves something remaining while the budget covers every
    commitment but the `outside` ones (proposal id -> how many of its latest)."""
    demand = sum(f.proposal.per_group_budget_cents * len(f.commitments) for f in fundings)
    step = ROUND_TOTAL_STEP_CENTS
    for total in range(demand // step * step, 0, -step):
        replay = _replay_reservations(total, fundings)
        if replay is not None and replay.reserved_cents < total and replay.outside == outside:
            return total, replay
    raise RuntimeError(f"no total of the demo round leaves outside its budget just {outside}")


def existing_demo(session) -> str | None:
    """'demo' if the demo is loaded, 'other' if the database holds other data, else None."""
    if session.scalar(select(exists().where(Person.email == ADMIN_EMAIL))):
        return "demo"
    if session.scalar(select(exists().where(BudgetRound.name == ROUND_NAME))):
        return "demo"
    for model in (Person, ActionGroup, BudgetRound, Proposal):
        if session.scalar(select(exists().where(model.id.is_not(None)))):
            return "other"
    return None


def _check_uploads_folder(root: str) -> None:
    """Refuse before anything is written if the illustrations cannot be stored."""
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as error:
        raise CommandError(
            f"le dossier des illustrations « {root} » n'est pas accessible en écriture "
            f"({error.strerror or error}). Rien n'a été chargé : corrigez UPLOADS_PATH, puis "
            "relancez « flask demo »."
        ) from error


# ---------------------------------------------------------------------------------------------
# Loading.


def load_demo(echo) -> bool:
    """Load the demo data set into an empty database; True if it was loaded.

    Four stages: the rows, written directly in one write transaction; the illustrations,
    through the services a person's upload goes through, each in its own transaction; the
    network of elected officials (demo_network.py), in one write transaction; the money
    (donations, spending requests and their ledger operations), in one write transaction.
    If a stage after the first fails, everything already written is removed again, files
    included, and the command fails with a message saying so.
    """
    started = time.perf_counter()
    loader = None
    with write_transaction():
        state = existing_demo(db.session)
        if state is None:
            _check_uploads_folder(current_app.config["UPLOADS_PATH"])
            loader = _Loader(random.Random(SEED), utcnow())
            summary = loader.load()
    if state == "demo":
        echo("Les données de démonstration sont déjà chargées : rien n'a été ajouté.")
        echo("")
        echo(accounts_table())
        return False
    if state == "other":
        echo(
            "La base contient déjà des données : le jeu de démonstration ne se charge que dans "
            "une base vide. Rien n'a été ajouté."
        )
        return False
    try:
        loader.illustrate()
        loader.stage = "network"
        network_facts, network_tries = loader.network.load()
        money_facts, money_tries = loader.record_money()
    except BaseException as error:
        undo_error = loader.undo()
        if not isinstance(error, Exception):
            raise  # an interruption (Ctrl-C): the rows and files are removed all the same
        message = error.message if isinstance(error, DomainError) else str(error) or repr(error)
        text = f"{loader.failed_step()} : {message.rstrip('.')}."
        if undo_error is None:
            text += (
                " Tout ce que la démonstration avait écrit a été retiré : la base est de "
                "nouveau vide. Corrigez la cause, puis relancez « flask demo »."
            )
        else:
            text += (
                " Le retrait des données déjà écrites a lui aussi échoué "
                f"({undo_error}) : videz la base (« flask db downgrade base » puis "
                "« flask db upgrade ») avant de relancer « flask demo »."
            )
        raise CommandError(text) from error
    elapsed = time.perf_counter() - started
    seconds = f"{elapsed:.1f}".replace(".", ",")
    facts, tries = summary
    echo(f"Données de démonstration chargées en {seconds} s.")
    echo("")
    facts += [*money_facts, *network_facts]
    echo("\n".join([*facts, "", "À essayer :", *tries, *money_tries, *network_tries]))
    echo("")
    echo(accounts_table())
    return True


def accounts_table() -> str:
    rows = [("Rôle", "E-mail", "Mot de passe"), ("Visiteur·euse", "(aucun compte nécessaire)", "")]
    rows += [(role, email, DEMO_PASSWORD) for _, role, email, _ in DEMO_ACCOUNTS]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["Comptes de démonstration :", ""]
    for n, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


@dataclass
class _Request:
    """A demo spending request as planned, before its rows are written."""

    expense: Expense
    group: ActionGroup
    author: Person
    second: Person  # the other manager of the group, who validates it
    reservation: Reservation | None  # of the commitment it is linked to
    steps: list[tuple[str, SpendingStatus]]
    times: list[datetime]  # of the steps
    spent: datetime
    fields: RequestFields
    round_cents: int = 0  # once approved
    envelope_cents: int = 0

    def at(self, action: str) -> datetime | None:
        return next(
            (at for (a, _), at in zip(self.steps, self.times, strict=True) if a == action), None
        )


@dataclass
class _Timeline:
    """When things happened to one proposal."""

    created: datetime
    submitted: datetime | None = None
    reviewed: datetime | None = None  # taken in charge by an animator
    published: datetime | None = None
    closed: datetime | None = None  # declined or withdrawn
    # The story's events with their moments, in order.
    events: list[tuple[datetime, object]] = field(default_factory=list)


class _Loader:
    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        self.password_hash = generate_password_hash(DEMO_PASSWORD)
        self.emails = _Emails({email for _, _, email, _ in DEMO_ACCOUNTS})
        # What load() wrote, for undo(); what illustrate() is doing, for its error message.
        self.written: dict[str, list[int]] = {}
        self.replays: dict[int, _Replay] = {}
        self.stage = "illustrations"  # then "network" (demo_network.py), then "money"
        self.step: tuple[str, list[str]] = ("", [])
        self.to_illustrate: list[tuple[str, int, int, str]] = []
        emails = {key: email for key, _, email, _ in DEMO_ACCOUNTS}
        self.network = NetworkDemo(now, self.password_hash, self.emails, emails)

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def person(self, email: str, name: str, created_at: datetime, **roles) -> Person:
        return Person(
            email=email,
            display_name=name,
            password_hash=self.password_hash,
            created_at=created_at,
            **{f"is_{role}": True for role in roles},
        )

    def random_person(self, created_at: datetime) -> Person:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        return self.person(self.emails(first, last), f"{first} {last}", created_at)

    def spread(self, start: datetime, end: datetime, n: int) -> list[datetime]:
        """n moments in order between start and end, one in each nth of the interval."""
        span = end - start
        return [start + span * ((k + self.rng.uniform(0.15, 0.85)) / n) for k in range(n)]

    def timeline(self, spec: Spec) -> _Timeline:
        rng, status = self.rng, spec.status
        published = None
        if spec.plan is not None:
            published = self.ago(days=spec.plan.days, hours=rng.uniform(1, 8))
            created = published - timedelta(days=rng.uniform(7, 21))
        elif status == S.draft:
            created = self.ago(days=rng.uniform(3, 20))
        elif status == S.submitted:
            created = self.ago(days=rng.uniform(6, 16))
        elif status == S.in_review:
            created = self.ago(days=rng.uniform(14, 30))
        else:
            created = self.ago(days=rng.uniform(35, 60))
        t = _Timeline(created=created, published=published)
        if status == S.draft:
            return t
        if status in (S.declined, S.withdrawn):
            t.closed = created + timedelta(days=rng.uniform(10, 25))
        end = published or t.closed or self.now
        t.submitted = created + (end - created) * rng.uniform(0.1, 0.2)
        if status in (S.in_review, S.published, S.declined):
            t.reviewed = t.submitted + (end - t.submitted) * rng.uniform(0.1, 0.2)
        story = STORIES.get(spec.title)
        if story is not None:
            events = list(story.events)
            split = events.index(PUBLICATION) if PUBLICATION in events else len(events)
            before, after = events[:split], events[split + 1 :]
            start = t.reviewed or t.submitted
            stop = (published or self.now) - timedelta(hours=1)
            t.events = list(zip(self.spread(start, stop, len(before)), before, strict=True))
            if after:
                window = (published + timedelta(hours=2), self.now - timedelta(hours=1))
                t.events += zip(self.spread(*window, len(after)), after, strict=True)
        return t

    def load(self) -> str:
        rng, session = self.rng, db.session

        # People with a demo account, the round, the groups.
        accounts = {
            key: self.person(
                email,
                name,
                self.ago(days=500 - 10 * n),
                **({key: True} if key in ("animation", "finance", "admin", "network") else {}),
            )
            for n, (key, _, email, name) in enumerate(DEMO_ACCOUNTS)
        }
        # A second animator, so that the queue shows who follows what.
        team = {
            "animation": accounts["animation"],
            "animation2": self.person(
                self.emails("Aurore", "Lemaire"),
                "Aurore Lemaire",
                self.ago(days=320),
                animation=True,
            ),
        }
        # The rounds: last year's, closed; this year's, current. Its total is set once the
        # commitments are known (see _current_round_total).
        previous_round = BudgetRound(
            name=PREVIOUS_ROUND_NAME,
            total_cents=PREVIOUS_TOTAL_CENTS,
            base_threshold=PREVIOUS_BASE_THRESHOLD,
            policy=ThresholdPolicy.manual,
            opens_at=_paris_midnight(self.ago(days=PREVIOUS_OPENED_DAYS_AGO)),
            closes_at=_paris_midnight(self.ago(days=PREVIOUS_CLOSED_DAYS_AGO)),
            is_current=False,
            reserved_cents=0,
            version=0,
            created_at=self.ago(days=PREVIOUS_CREATED_DAYS_AGO, hours=5),
        )
        budget_round = BudgetRound(
            name=ROUND_NAME,
            total_cents=0,
            base_threshold=BASE_THRESHOLD,
            policy=ThresholdPolicy.manual,
            opens_at=_paris_midnight(self.ago(days=ROUND_OPENED_DAYS_AGO)),
            closes_at=_paris_midnight(self.ago(days=-ROUND_CLOSES_IN_DAYS)),
            is_current=True,
            reserved_cents=0,
            version=0,
            created_at=self.ago(days=ROUND_CREATED_DAYS_AGO, hours=3),
        )
        specs = _group_specs()
        demo_keys = {MANAGER_REFERENT_OF, MANAGER_MANAGER_OF, UNCERTIFIED_MANAGER_OF}
        others = [spec[0] for spec in specs if spec[0] not in demo_keys and spec[0][1] is None]
        uncertified = {UNCERTIFIED_MANAGER_OF, *rng.sample(others, UNCERTIFIED_GROUPS - 1)}
        groups: dict[tuple[str, str | None], ActionGroup] = {}
        for key, name, commune, dep in specs:
            if key in uncertified:
                created = self.ago(days=rng.uniform(3, 40))
                certified = None
            else:
                created = self.ago(days=rng.uniform(150, 420))
                certified = created + timedelta(days=rng.uniform(10, 60))
            groups[key] = ActionGroup(
                name=name, commune=commune, departement=dep, certified_at=certified,
                created_at=created,
            )  # fmt: skip
        session.add(previous_round)
        session.add(budget_round)
        session.add_all(accounts.values())
        session.add(team["animation2"])
        session.add_all(groups.values())
        session.flush()

        # Members: every group has a manager, often a referent too, and a few members.
        people: list[Person] = [team["animation2"]]
        roles: list[tuple[Person, ActionGroup, MemberRole]] = []
        acting: dict[int, list[Person]] = {}  # group id -> who acts for it
        for group in groups.values():
            members = [(self.random_person(group.created_at), MemberRole.manager)]
            if rng.random() < 0.5:
                members.append((self.random_person(group.created_at), MemberRole.referent))
            for _ in range(rng.randint(1, 3)):
                joined = group.created_at + timedelta(days=rng.uniform(1, 30))
                members.append((self.random_person(min(joined, self.now)), MemberRole.member))
            for person, role in members:
                people.append(person)
                roles.append((person, group, role))
        demo_manager = accounts["manager"]
        roles += [
            (demo_manager, groups[MANAGER_REFERENT_OF], MemberRole.referent),
            (demo_manager, groups[MANAGER_MANAGER_OF], MemberRole.manager),
            (accounts["membre"], groups[MANAGER_REFERENT_OF], MemberRole.member),
            (accounts["non_certifie"], groups[UNCERTIFIED_MANAGER_OF], MemberRole.manager),
        ]
        session.add_all(people[1:])
        session.flush()
        memberships = []
        for person, group, role in roles:
            memberships.append(
                Membership(
                    person_id=person.id,
                    group_id=group.id,
                    role=role,
                    created_at=max(person.created_at, group.created_at),
                )
            )
            if role.acts_for_group:
                acting.setdefault(group.id, []).append(person)
        session.add_all(memberships)

        audits = []
        admin = accounts["admin"]
        for group in groups.values():
            audits.append(
                _audit(group.created_at, admin, "group.create", group_id=group.id, new=group.name)
            )
            if group.certified_at is not None:
                audits.append(
                    _audit(
                        group.certified_at,
                        admin,
                        "group.certify",
                        group_id=group.id,
                        reason=rng.choice(CERTIFICATION_REASONS),
                    )
                )

        # Proposals: their text at each revision, who wrote and who follows them, and when.
        demo_groups = {
            "referent": groups[MANAGER_REFERENT_OF],
            "manager": groups[MANAGER_MANAGER_OF],
        }
        pool = [
            g for key, g in groups.items() if g.certified_at is not None and key not in demo_keys
        ]
        by_id = {g.id: g for g in groups.values()}
        previous_specs = set(PREVIOUS_PROPOSALS)
        unknown = (set(STORIES) | set(PICTURES)) - {spec.title for spec in PROPOSALS}
        if unknown:
            raise RuntimeError(f"demo stories or pictures of unknown proposals: {unknown}")
        proposals: list[tuple[Spec, Proposal]] = []
        # Beside each proposal: its timeline, its text at each revision, author and follower.
        lives: list[tuple[_Timeline, list[ProposalText], Person, Person | None]] = []
        slugs: set[str] = set()
        for n, spec in enumerate((*PROPOSALS, *PREVIOUS_PROPOSALS)):
            slug = slugify(spec.title)
            if slug in slugs:
                raise RuntimeError(f"two demo proposals have the slug {slug!r}")
            slugs.add(slug)
            t = self.timeline(spec)
            # Only a group certified by then proposes (last year's proposals are old).
            proposers = [g for g in pool if g.certified_at < t.created]
            origin = demo_groups[spec.origin] if spec.origin else rng.choice(proposers)
            author = demo_manager if spec.origin else acting[origin.id][0]
            story = STORIES.get(spec.title)
            assignee = None
            if t.reviewed is not None:
                assignee = team[story.team if story else ("animation", "animation2")[n % 2]]
            texts = _versions(spec, story)
            text = texts[-1]
            edits = [at for at, event in t.events if isinstance(event, Edit)]
            round_of = previous_round if spec in previous_specs else budget_round
            proposal = Proposal(
                round_id=round_of.id,
                title=text.title,
                slug=slug,
                summary=text.summary,
                body=text.body,
                how_to=text.how_to,
                category=spec.category,
                per_group_budget_cents=text.per_group_budget_cents,
                origin_group_id=origin.id,
                status=spec.status,
                version=len(texts),
                author_id=author.id,
                assignee_id=assignee.id if assignee else None,
                submitted_at=t.submitted,
                published_at=t.published,
                declined_at=t.closed if spec.status == S.declined else None,
                decline_reason=spec.reason if spec.status == S.declined else "",
                withdrawn_at=t.closed if spec.status == S.withdrawn else None,
                withdraw_reason=spec.reason if spec.status == S.withdrawn else "",
                created_at=t.created,
                updated_at=max(
                    [t.created, *(at for at in (t.submitted, t.reviewed, t.closed) if at), *edits]
                ),
            )
            proposals.append((spec, proposal))
            lives.append((t, texts, author, assignee))
        session.add_all(proposal for _, proposal in proposals)
        session.flush()

        lines, revisions, messages, reads = [], [], [], []
        for (spec, proposal), (t, texts, author, assignee) in zip(proposals, lives, strict=True):
            lines += [
                BudgetLine(proposal_id=proposal.id, position=k, item=item, amount_cents=amount)
                for k, (item, amount) in enumerate(texts[-1].budget_lines, start=1)
            ]
            edits = [at for at, event in t.events if isinstance(event, Edit)]
            snapshots = [text.snapshot() for text in texts]
            for number, (at, snapshot) in enumerate(
                zip([t.created, *edits], snapshots, strict=True), 1
            ):
                revisions.append(
                    ProposalRevision(
                        proposal_id=proposal.id,
                        number=number,
                        author_id=(author if number == 1 else assignee).id,
                        created_at=at,
                        kind="creation" if number == 1 else "edit",
                        restored_from=None,
                        changes={} if number == 1 else _changes(snapshots[number - 2], snapshot),
                        snapshot=snapshot,
                    )
                )
            said = [(at, event) for at, event in t.events if isinstance(event, Message)]
            for at, message in said:
                if message.side == "team" and assignee is None:
                    raise RuntimeError(f"a team message on {spec.title!r}, which nobody follows")
                messages.append(
                    ProposalMessage(
                        proposal_id=proposal.id,
                        author_id=(assignee if message.side == "team" else author).id,
                        from_team=message.side == "team",
                        body=message.body,
                        created_at=at,
                    )
                )
            story = STORIES.get(spec.title)
            if said:
                first = len(messages) - len(said)
                reads.append((author, proposal, messages[first:], story.group_read))
                if assignee is not None:
                    reads.append((assignee, proposal, messages[first:], story.team_read))
            audits += self.lifecycle_audits(spec, proposal, t, texts[0], author, assignee)
            if spec.title in PICTURES:
                if spec.status != S.published or assignee is None:
                    raise RuntimeError(f"only published demo proposals are illustrated: {spec}")
                commune = by_id[proposal.origin_group_id].commune
                self.to_illustrate.append((spec.title, proposal.id, assignee.id, commune))

        # Commitments of the published proposals, and their fundable transition.
        commitments = []
        rounds = {r.id: r for r in (previous_round, budget_round)}
        by_proposal: dict[int, list[Commitment]] = {}
        for (spec, proposal), (*_, assignee) in zip(proposals, lives, strict=True):
            if spec.plan is None:
                continue
            round_of = rounds[proposal.round_id]
            # Groups certified before the publication (all of them, this year).
            committers = [g for g in pool if g.certified_at < proposal.published_at]
            last_edit = proposal.updated_at
            new, audit = self.commitments(
                spec.plan, proposal, round_of, demo_groups, committers, acting
            )
            proposal.updated_at = max(proposal.updated_at, last_edit)
            commitments += new
            by_proposal[proposal.id] = new
            audits += [
                _audit(
                    at,
                    assignee,
                    "proposal.threshold_override",
                    proposal_id=proposal.id,
                    new=str(value),
                    reason=reason,
                    round_id=proposal.round_id,
                )
                for at, value, reason in audit
            ]
        session.add_all(lines)
        session.add_all(revisions)
        session.add_all(messages)
        session.add_all(commitments)
        session.flush()

        # The reservations, replayed round by round in time order, and the rounds' audit.
        reservations, self.replays = [], {}
        for round_of in (previous_round, budget_round):
            fundings = [
                _Funding(
                    proposal,
                    proposal.fundable_at,
                    sorted(
                        (
                            c
                            for c in by_proposal[proposal.id]
                            if c.status == CommitmentStatus.active
                        ),
                        key=lambda c: (c.committed_at, c.id),
                    ),
                )
                for _, proposal in proposals
                if proposal.round_id == round_of.id and proposal.fundable_at is not None
            ]
            if round_of is budget_round:
                outside = {
                    p.id: spec.plan.outside
                    for spec, p in proposals
                    if spec.plan and spec.plan.outside
                }
                round_of.total_cents, replay = _current_round_total(fundings, outside)
            else:
                replay = _replay_reservations(round_of.total_cents, fundings)
                if replay is None or replay.outside:
                    raise RuntimeError("the previous demo round must reserve every commitment")
            self.replays[round_of.id] = replay
            for funding, commitment, at in replay.reserved:
                proposal = funding.proposal
                reservations.append(
                    Reservation(
                        round_id=round_of.id,
                        proposal_id=proposal.id,
                        commitment_id=commitment.id,
                        group_id=commitment.group_id,
                        amount_cents=proposal.per_group_budget_cents,
                        reserved_at=at,
                        released_at=None,
                    )
                )
                proposal.reserved_count += 1
                proposal.reserved_cents += proposal.per_group_budget_cents
                proposal.live_version += 1
            round_of.reserved_cents = replay.reserved_cents
            # As the services count: one per reservation, one per transition.
            round_of.version = len(replay.reserved) + len(fundings)
        finance = accounts["finance"]
        as_created = BudgetRound(
            name=budget_round.name,
            total_cents=budget_round.total_cents,
            base_threshold=INITIAL_BASE_THRESHOLD,
            policy=budget_round.policy,
            opens_at=budget_round.opens_at,
            closes_at=budget_round.closes_at,
        )
        audits += [
            _audit(
                previous_round.created_at,
                finance,
                "round.create",
                new=describe_round(previous_round),
                round_id=previous_round.id,
            ),
            _audit(
                budget_round.created_at,
                finance,
                "round.create",
                new=describe_round(as_created),
                round_id=budget_round.id,
            ),
            _audit(
                self.ago(days=BASE_THRESHOLD_CHANGED_DAYS_AGO, hours=6),
                finance,
                "round.base_threshold",
                old=str(INITIAL_BASE_THRESHOLD),
                new=str(BASE_THRESHOLD),
                reason=BASE_THRESHOLD_REASON,
                round_id=budget_round.id,
            ),
        ]
        budget_round.version += 1  # the base threshold's change
        session.add_all(reservations)
        session.add_all(audits)
        session.flush()

        # Read pointers: how far each side has read its exchanges (later ones are unread).
        for person, proposal, said, read in reads:
            if read != 0:
                last = said[-1] if read is None else said[read - 1]
                session.add(
                    MessageRead(person_id=person.id, proposal_id=proposal.id, last_read_id=last.id)
                )
        session.flush()
        self.written = {
            "person": [p.id for p in [*accounts.values(), *people]],
            "group": [g.id for g in groups.values()],
            "round": [previous_round.id, budget_round.id],
            "proposal": [p.id for _, p in proposals],
            "audit": [a.id for a in audits],
        }
        return self.summary(
            groups,
            people,
            accounts,
            proposals,
            commitments,
            revisions,
            messages,
            team,
            (previous_round, budget_round),
        )

    def lifecycle_audits(self, spec, proposal, t: _Timeline, first: ProposalText, author, assignee):
        """The audit entries the services write along a proposal's life."""

        def audit(at, actor, action, old="", new="", reason="", group=True):
            group_id = proposal.origin_group_id if group else None
            return _audit(at, actor, action, group_id, proposal.id, old, new, reason)

        rows = [audit(t.created, author, "proposal.create", new=first.title)]
        if t.submitted is not None:
            rows.append(audit(t.submitted, author, "proposal.submit", "draft", "submitted"))
        if t.reviewed is not None:
            # As services.queue records an animator taking a submitted proposal in charge.
            rows += [
                audit(t.reviewed, assignee, "proposal.assign", new=str(assignee.id), group=False),
                audit(
                    t.reviewed,
                    assignee,
                    "proposal.review",
                    "submitted",
                    "in_review",
                    "Prise en charge par l'équipe d'animation.",
                    group=False,
                ),
            ]
        if t.published is not None:
            rows.append(audit(t.published, assignee, "proposal.publish", "in_review", "published"))
        if t.closed is not None:
            declined = spec.status == S.declined
            rows.append(
                audit(
                    t.closed,
                    assignee if declined else author,
                    "proposal.decline" if declined else "proposal.withdraw",
                    "in_review" if declined else "submitted",
                    spec.status.value,
                    spec.reason,
                )
            )
        return rows

    def commitments(
        self, plan: Plan, proposal: Proposal, budget_round: BudgetRound, demo_groups, pool, acting
    ):
        """The commitments of one published proposal and its fundable transition, all made
        while its round accepted them (a closed round's, before its closing)."""
        rng = self.rng
        total = plan.active + plan.withdrawn
        committers: list[ActionGroup] = []
        chosen = [demo_groups[key] for key in plan.demo]
        chosen_ids = {g.id for g in chosen}
        if total:
            # The origin group commits first; the others follow in a random order.
            origin = next(
                g for g in [*demo_groups.values(), *pool] if g.id == proposal.origin_group_id
            )
            rest = [g for g in chosen if g.id != origin.id]
            excluded = chosen_ids | {origin.id}
            rest += rng.sample([g for g in pool if g.id not in excluded], total - 1 - len(rest))
            rng.shuffle(rest)
            if plan.outside:
                # The demo manager's group is among the latest, left outside the budget.
                rest.sort(key=lambda g: g.id in chosen_ids)
            committers = [origin, *rest]
        start = proposal.published_at + timedelta(hours=2)
        end = min(self.now, budget_round.closes_at)
        if budget_round.is_current and plan.fundable:
            # The latest commitments to a fundable proposal are those the budget no longer
            # covers (the plan with `outside`): every other one comes a day before.
            end -= timedelta(days=1)
        span = (end - timedelta(hours=3) - start).total_seconds()
        late = plan.outside
        # More commitments soon after publication, fewer later.
        times = sorted(
            start + timedelta(seconds=span * rng.random() ** 1.5)
            for _ in committers[: len(committers) - late]
        )
        times += sorted(self.ago(hours=rng.uniform(3, 20)) for _ in range(late))
        rows = []
        for group, at in zip(committers, times, strict=True):
            note = rng.choice(COMMITMENT_NOTES) if rng.random() < 0.4 else ""
            rows.append(
                Commitment(
                    group_id=group.id,
                    proposal_id=proposal.id,
                    person_id=rng.choice(acting[group.id]).id,
                    note=note,
                    status=CommitmentStatus.active,
                    committed_at=at,
                    withdrawn_at=None,
                    created_at=at,
                )
            )
        commits = [(at, "commit", 1) for at in times]

        overrides = []
        if plan.override is not None:
            if plan.override_after == 0:
                at = proposal.published_at + timedelta(minutes=rng.uniform(5, 60))
            else:
                before, after = times[plan.override_after - 1], times[plan.override_after]
                at = before + (after - before) / 2
            commits.append((at, "threshold", plan.override))
            overrides.append((at, plan.override, plan.override_reason))
            proposal.threshold_override = plan.override

        # Withdrawals, by groups other than the origin and the demo manager's: drawn again
        # until they all happen before the proposal became fundable, when rule 4 allows them
        # without conditions.
        candidates = [i for i, g in enumerate(committers) if i > 0 and g.id not in chosen_ids]
        for _attempt in range(200):
            withdrawn = {
                i: min(
                    times[i] + timedelta(days=rng.uniform(0.5, 6)),
                    end - timedelta(hours=1),
                )
                for i in rng.sample(candidates, plan.withdrawn)
            }
            events = commits + [(at, "withdraw", 1) for at in withdrawn.values()]
            transition = _fundable_transition(events, budget_round.base_threshold)
            if transition is None or all(at < transition[0] for at in withdrawn.values()):
                break
        else:
            raise RuntimeError(f"no withdrawals fit the demo plan of {proposal.title!r}")
        for i, at in withdrawn.items():
            rows[i].status = CommitmentStatus.withdrawn
            rows[i].withdrawn_at = at

        proposal.commitment_count = plan.active
        if transition is not None:
            at, threshold, count = transition
            # record_fundable_if_reached runs a moment after the change that crossed the line.
            proposal.fundable_at = at + timedelta(milliseconds=rng.randint(2, 40))
            proposal.fundable_threshold = threshold
            proposal.fundable_count = count
        threshold = plan.override or budget_round.base_threshold
        if not all(budget_round.accepts_commitments_at(at) for at in times):
            raise RuntimeError(f"commitments to {proposal.title!r} outside its round's dates")
        if (transition is not None) != plan.fundable or (
            plan.near != (transition is None and threshold - plan.active <= 2)
        ):
            raise RuntimeError(f"the demo plan of {proposal.title!r} is inconsistent")
        last = max([proposal.published_at, *(e[0] for e in events)])
        proposal.updated_at = max(last, proposal.fundable_at or last)
        return rows, overrides

    def summary(
        self, groups, people, accounts, proposals, commitments, revisions, messages, team, rounds
    ) -> tuple[list[str], list[str]]:
        """What was loaded, illustrations included (the command fails if they cannot be), and
        what to try."""
        certified = sum(1 for g in groups.values() if g.certified_at is not None)
        departements = len({g.departement for g in groups.values()})
        by_status = {status: 0 for status in ProposalStatus}
        for spec, _ in proposals:
            by_status[spec.status] += 1
        fundable = sum(1 for _, p in proposals if p.fundable_at is not None)
        active = sum(1 for c in commitments if c.status == CommitmentStatus.active)
        statuses = ", ".join(
            f"{n} {STATUS_LABELS[status][n > 1]}"
            + (f" (dont {fundable} finançables)" if status == ProposalStatus.published else "")
            for status, n in sorted(
                by_status.items(), key=lambda item: item[0] != ProposalStatus.published
            )
            if n
        )
        edited = sum(1 for r in revisions if r.number > 1)
        near = next(p for spec, p in proposals if spec.plan and spec.plan.near)
        threshold = near.threshold_override or BASE_THRESHOLD
        manager = accounts["manager"].email
        waiting = by_status[S.submitted] + by_status[S.in_review]
        previous, current = rounds

        def euros(cents: int) -> str:
            return _euros(cents, " ")

        def fundable_in(budget_round: BudgetRound) -> int:
            return sum(1 for _, p in proposals if p.round_id == budget_round.id and p.fundable_at)

        replay = self.replays[current.id]
        ((outside_id, outside),) = replay.outside.items()
        short = next(p for _, p in proposals if p.id == outside_id)
        overrides = sum(1 for _, p in proposals if p.threshold_override is not None)
        lines = [
            f"- {current.name}, en cours (engagements du {format_paris(current.opens_at)} au "
            f"{format_paris(current.closes_at)}) : {euros(current.total_cents)}, dont "
            f"{euros(current.reserved_cents)} réservés pour {len(replay.reserved)} engagements "
            f"sur {fundable_in(current)} actions finançables ; il reste "
            f"{euros(current.remaining_cents)}. Seuil de base {current.base_threshold} groupes, "
            "règle fixe ;",
            f"- {previous.name}, clos le {format_paris(previous.closes_at)} : "
            f"{euros(previous.total_cents)}, dont {euros(previous.reserved_cents)} réservés sur "
            f"{fundable_in(previous)} actions finançables ;",
            f"- {len(groups)} groupes d'action dans {departements} départements "
            f"({certified} certifiés, {len(groups) - certified} en attente de certification) ;",
            f"- {len(people) + len(accounts)} personnes, dont {len(team)} dans l'équipe "
            "d'animation ;",
            f"- {len(proposals)} propositions : {statuses} ;",
            f"- {len(revisions)} versions enregistrées (dont {edited} retouches de l'équipe "
            f"d'animation) et {len(messages)} messages d'échange ;",
            f"- {sum(len(p) for p in PICTURES.values())} illustrations sur {len(PICTURES)} "
            "propositions publiées, dessinées par la démonstration et traitées comme tout envoi "
            f"(fichiers dans {current_app.config['UPLOADS_PATH']}) ;",
            f"- {active} engagements actifs ({len(commitments) - active} retirés) ;",
        ]
        tries = [
            f"- « {near.title} » compte {near.commitment_count} groupes engagés sur "
            f"{threshold} : connectez-vous avec {manager} et engagez vos deux groupes, elle "
            "devient finançable sous vos yeux ;",
            f"- « {short.title} » est finançable, mais le budget presque épuisé ne couvre plus "
            f"{outside} de ses {short.commitment_count} groupes engagés : sa page les montre "
            "hors budget participatif ;",
            f"- le même compte retrouve sur la page de son groupe {MANAGER_REFERENT_OF[0]} "
            f"{MANAGER_REFERENT_OF[1]} un brouillon, une proposition soumise et une en revue, "
            "avec des messages non lus de l'équipe d'animation ;",
            f"- {accounts['finance'].email} suit le budget participatif et son journal : "
            f"création, seuil de base abaissé de {INITIAL_BASE_THRESHOLD} à {BASE_THRESHOLD} "
            f"groupes, seuils propres de {overrides} propositions ;",
            f"- {accounts['animation'].email} trouve {waiting} propositions à traiter dans "
            "l'espace d'animation ;",
        ]
        return lines, tries

    def failed_step(self) -> str:
        """What failed, for the command's error message: the stage, and the file at hand."""
        title, filenames = self.step
        files = ", ".join(f"« {name} »" for name in filenames)
        where = ""
        if title and files:
            where = f" (« {title} », {'fichiers' if len(filenames) > 1 else 'fichier'} {files})"
        elif title:
            where = f" (« {title} »)"
        if self.stage == "money":
            return f"l'enregistrement des dons et des dépenses de démonstration a échoué{where}"
        if self.stage == "network":
            return self.network.failed_step()
        return f"l'ajout des illustrations de démonstration a échoué{where}"

    def illustrate(self) -> None:
        """Draw the pictures and add them as the animator who follows each proposal would: the
        upload service processes them (checked, turned upright, stripped of their metadata,
        resized, thumbnailed), then a caption, an alternative text and a cover are chosen."""
        max_files = current_app.config["UPLOAD_MAX_FILES"]
        for title, proposal_id, animator_id, commune in self.to_illustrate:
            animator = db.session.get(Person, animator_id)
            pictures = PICTURES[title]
            files = [
                UploadedFile(
                    f"{slugify(picture.label)}.{'jpg' if picture.format == 'jpeg' else 'png'}",
                    draw_picture(picture, commune, f"{SEED}-{title}-{n}"),
                )
                for n, picture in enumerate(pictures)
            ]
            ids: list[int] = []
            for start in range(0, len(files), max_files):
                batch = files[start : start + max_files]
                self.step = (title, [file.filename for file in batch])
                ids += illustration_service.upload_illustrations(animator, proposal_id, batch)
            for picture, file, illustration_id in zip(pictures, files, ids, strict=True):
                self.step = (title, [file.filename])
                illustration_service.update_illustration(
                    animator,
                    illustration_id,
                    picture.caption.format(commune=commune),
                    picture.alt.format(commune=commune),
                )
                if picture.cover:
                    illustration_service.set_cover(animator, illustration_id)

    def record_money(self) -> tuple[list[str], list[str]]:
        """The money side, last: earmarked donations into every certified group's envelope and
        spending requests in every status, with their receipts, timelines and ledger
        operations. Ledger operations can never be deleted (a trigger refuses it), so undo()
        could not take them back: this stage writes everything in one write transaction, which
        commits all or nothing, and removes the receipt files it stored if it fails. Its
        summary lines: (what was loaded, what to try)."""
        self.stage = "money"
        written: list[Path] = []
        try:
            with write_transaction():
                return self._money(written)
        except BaseException:
            receipt_files.remove_receipt_files(written)
            raise

    def request_times(self, rng, floor: datetime, days: float, n: int) -> list[datetime]:
        """When a request's n steps happened, in waking hours: created `days` ago (or a day
        after `floor` if that is later), then a few days between steps, all before now."""
        created = _waking(
            max(
                self.ago(days=days, hours=rng.uniform(0, 8)),
                floor + timedelta(hours=rng.uniform(20, 44)),
            )
        )
        gaps = [rng.uniform(0.3, 3.5) * WAKING_HOURS for _ in range(n - 1)]
        for _attempt in range(40):
            times = [created]
            for gap in gaps:
                times.append(_after_waking(times[-1], gap))
            if times[-1] <= self.ago(hours=1):
                return times
            gaps = [gap * 0.7 for gap in gaps]
        raise RuntimeError("a demo request would have happened in the future")

    def _money(self, written: list[Path]) -> tuple[list[str], list[str]]:
        rng, session = random.Random(f"{SEED}-money"), db.session
        config = current_app.config
        root = config["UPLOADS_PATH"]
        emails = {key: email for key, _, email, _ in DEMO_ACCOUNTS}
        accounts = {
            p.email: p
            for p in session.scalars(select(Person).where(Person.email.in_(emails.values())))
        }
        manager, finance = accounts[emails["manager"]], accounts[emails["finance"]]
        groups = list(
            session.scalars(
                select(ActionGroup)
                .where(ActionGroup.certified_at.is_not(None))
                .order_by(ActionGroup.id)
            )
        )
        acting: dict[int, list[Person]] = {}
        joined: dict[tuple[int, int], datetime] = {}
        for membership, person in session.execute(
            select(Membership, Person)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.role.in_([MemberRole.manager, MemberRole.referent]))
            .order_by(Membership.id)
        ):
            acting.setdefault(membership.group_id, []).append(person)
            joined[(person.id, membership.group_id)] = membership.created_at
        reservations: dict[tuple[int, str], Reservation] = {}
        for reservation, title in session.execute(
            select(Reservation, Proposal.title)
            .join(Proposal, Proposal.id == Reservation.proposal_id)
            .where(Reservation.released_at.is_(None))
            .order_by(Reservation.id)
        ):
            reservations[(reservation.group_id, title)] = reservation

        # Whose requests: the demo manager's groups, then one other group per request, among
        # those with two people acting for them (the second one validates).
        by_name = {g.name: g for g in groups}
        demo_groups = {
            key: by_name["Groupe d'action " + " ".join(where)]
            for key, where in (("referent", MANAGER_REFERENT_OF), ("manager", MANAGER_MANAGER_OF))
        }
        used = {g.id for g in demo_groups.values()}
        others = [g for g in groups if g.id not in used and len(acting.get(g.id, ())) >= 2]

        def pick(candidates: list[ActionGroup]) -> ActionGroup:
            group = rng.choice([g for g in candidates if g.id not in used])
            used.add(group.id)
            return group

        nearly_empty = pick(others)
        plans: list[_Request] = []
        ibans: dict[str, str] = {}  # payee -> their IBAN
        for expense in EXPENSES:
            if expense.group in demo_groups:
                group = demo_groups[expense.group]
                co = next(p for p in acting[group.id] if p.id != manager.id)
                author, second = (manager, co) if expense.author == "me" else (co, manager)
            else:
                group = nearly_empty
                if expense.group == "other":
                    group = pick(
                        [g for g in others if (g.id, expense.action) in reservations]
                        if expense.action
                        else others
                    )
                author, second = acting[group.id][:2]
            reservation = reservations[(group.id, expense.action)] if expense.action else None
            steps = _steps(expense)
            floor = max(
                group.certified_at,
                joined[(author.id, group.id)],
                joined[(second.id, group.id)],
                *([reservation.reserved_at] if reservation else []),
            )
            times = self.request_times(rng, floor, expense.days, len(steps))
            spent = max(
                times[0] - timedelta(days=rng.uniform(0.5, 4)), floor + (times[0] - floor) / 2
            )
            payee = author.display_name if expense.reimburse else expense.issuer
            payee = payee.format(commune=group.commune)
            if payee not in ibans:
                ibans[payee] = french_iban(rng)
            fields = RequestFields(
                title=expense.title,
                category=expense.category,
                amount_cents=expense.amount_cents,
                spent_on=spent.astimezone(PARIS).date(),
                explanation=expense.explanation,
                payee_name=payee,
                payee_iban=ibans[payee],
                commitment_id=reservation.commitment_id if reservation else None,
            )
            # As a person's form would store it: the same checks, nothing to clean.
            if clean_fields(group.id, fields) != fields:
                raise RuntimeError(f"the demo request {expense.title!r} is not as a form saves it")
            plans.append(
                _Request(expense, group, author, second, reservation, steps, times, spent, fields)
            )

        # The charging rule, approval after approval: the round's part up to what is left of
        # the reservation, the rest from the envelope.
        charged: dict[int, int] = {}
        for plan in sorted((p for p in plans if p.at("approved")), key=lambda p: p.at("approved")):
            round_part = 0
            if plan.reservation is not None:
                left = plan.reservation.amount_cents - charged.get(plan.reservation.id, 0)
                round_part = min(plan.fields.amount_cents, left)
                charged[plan.reservation.id] = charged.get(plan.reservation.id, 0) + round_part
            plan.round_cents = round_part
            plan.envelope_cents = plan.fields.amount_cents - round_part
            if plan.expense.split != (0 < round_part < plan.fields.amount_cents):
                raise RuntimeError(f"the demo request {plan.expense.title!r} is charged otherwise")

        # The donations: a few every fortnight for each certified group, more and larger for the
        # groups that pay from their envelope, two small ones for the nearly empty one.
        imports = [
            _paris_midnight(self.ago(days=days)) + timedelta(hours=rng.uniform(9, 17))
            for days in range(DONATIONS_SINCE_DAYS, 2, -IMPORT_EVERY_DAYS)
        ]
        generous = {g.id for g in demo_groups.values()}
        generous |= {p.group.id for p in plans if p.envelope_cents and p.group is not nearly_empty}
        while len(generous) < GENEROUS_GROUPS:
            generous.add(pick(others).id)
        spends = sorted(
            p.at("approved") for p in plans if p.group is nearly_empty and p.at("approved")
        )
        donations: list[tuple[datetime, ActionGroup, int]] = []
        for group in groups:
            start = max(group.certified_at + timedelta(days=2), imports[0] - timedelta(days=12))
            until = self.now
            if group is nearly_empty:
                amounts = [euros * 100 for euros in NEARLY_EMPTY_DONATIONS]
                until = spends[0]
            else:
                many = group.id in generous
                count = rng.randint(10, 16) if many else rng.randint(2, 6)
                weights = GENEROUS_WEIGHTS if many else DONATION_WEIGHTS
                amounts = [e * 100 for e in rng.choices(DONATION_EUROS, weights, k=count)]
            # Each is recorded by the first import after it: leave one before `until`.
            latest = until - timedelta(days=IMPORT_EVERY_DAYS + 1)
            if latest <= start:
                raise RuntimeError(f"no time for the demo donations to {group.name!r}")
            moments = sorted(start + (latest - start) * rng.random() for _ in amounts)
            donations += [(m, group, a) for m, a in zip(moments, amounts, strict=True)]
        donations.sort(key=lambda d: (d[0], d[1].id))

        # The requests, their receipts and their timelines.
        requests = []
        for plan in plans:
            approved_at = plan.at("approved")
            requests.append(
                SpendingRequest(
                    group_id=plan.group.id,
                    author_id=plan.author.id,
                    last_editor_id=plan.author.id,
                    **vars(plan.fields),
                    status=plan.expense.status,
                    version=len(plan.steps),
                    reservation_id=plan.reservation.id if plan.round_cents else None,
                    round_cents=plan.round_cents if approved_at else None,
                    envelope_cents=plan.envelope_cents if approved_at else None,
                    created_at=plan.times[0],
                    updated_at=plan.times[0],
                    submitted_at=plan.at("submitted"),
                    decided_at=approved_at or plan.at("refused"),
                    paid_at=plan.at("paid"),
                )
            )
        session.add_all(requests)
        session.flush()
        max_bytes, max_pixels = config["RECEIPT_MAX_BYTES"], config["RECEIPT_MAX_PIXELS"]
        receipt_rows: list[dict] = []
        event_rows: list[dict] = []
        for plan, request in zip(plans, requests, strict=True):
            expense, n = plan.expense, len(plan.expense.receipts)
            for k, kind in enumerate(expense.receipts):
                moment = (plan.spent - timedelta(days=2 * k)).astimezone(PARIS)
                if kind == "pdf":
                    number = f"F{moment:%Y}-{rng.randint(100, 4999):04d}"
                elif kind == "jpeg":
                    number = f"{rng.randint(1, 99):04d}-{rng.randint(1000, 9999)}"
                else:
                    number = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=6))
                text = ReceiptText(
                    issuer=expense.issuer.format(commune=plan.group.commune),
                    commune=plan.group.commune,
                    client=plan.author.display_name if kind == "png" else plan.group.name,
                    number=number,
                    moment=moment,
                    lines=expense.lines[k::n],
                    paid=expense.reimburse,
                )
                filename, data = receipt_file(kind, text, f"{SEED}-{expense.title}-{k}")
                self.step = (expense.title, [filename])
                checked = receipt_files.check_receipt(filename, data, max_bytes, max_pixels)
                stored_name, paths = receipt_files.store_receipt(root, checked)
                written += paths
                receipt_rows.append(
                    {
                        "request_id": request.id,
                        "stored_name": stored_name,
                        "filename": checked.display_name,
                        "content_type": checked.content_type,
                        "size": checked.size,
                        "sha256": checked.sha256,
                        "uploaded_at": plan.times[0],
                        "uploaded_by_id": plan.author.id,
                    }
                )
            actors = {
                "created": plan.author,
                "submitted": plan.author,
                "validated": plan.second,
                "answered": plan.author,
            }
            comments = {
                "validated": expense.validation,
                "info_requested": expense.question,
                "answered": expense.answer,
                "refused": expense.refusal,
            }
            before = None
            for (action, status), at in zip(plan.steps, plan.times, strict=True):
                event_rows.append(
                    {
                        "request_id": request.id,
                        "at": at,
                        "actor_id": actors.get(action, finance).id,
                        "action": action,
                        "from_status": before,
                        "to_status": status.value,
                        "comment": comments.get(action, ""),
                    }
                )
                before = status.value
        self.step = ("", [])

        # The ledger: every operation at its moment, in time order, with the accounts' balances
        # kept as the services keep them. Written directly, as load() writes its rows: the
        # services' _record stamps an operation with the present moment.
        operations: list[tuple] = []  # (at, source, destination, amount, reason, actor, links)
        numbers: dict[int, int] = {}  # year -> the last donation number of that year
        audits = []
        batches: dict[datetime, list[int]] = {}
        for moment, group, amount in donations:
            day = moment.astimezone(PARIS).date()
            numbers[day.year] = numbers.get(day.year, rng.randint(80, 400)) + rng.randint(1, 9)
            reference = f"DON-{day.year}-{numbers[day.year]:06d}"
            # The donations system's file of a day lists the donations of the days before.
            at = next(t for t in imports if t.astimezone(PARIS).date() > day)
            batches.setdefault(at, []).append(amount)
            at += timedelta(milliseconds=len(batches[at]))
            reason = f"Don fléché du {day:%d/%m/%Y} (import)"
            links = {"reference": reference}
            operations.append(
                (at, ("donations",), ("envelope", group.id), amount, reason, finance, links)
            )
        for at, amounts in batches.items():
            result = ImportResult(added=len(amounts), amount_cents=sum(amounts), skipped=0)
            name = f"dons-fleches-{at.astimezone(PARIS):%Y-%m-%d}.csv"
            audits.append(_audit(at, finance, "ledger.import", new=describe_import(result, name)))
        for plan, request in zip(plans, requests, strict=True):
            at = plan.at("approved")
            if at is None:
                continue
            reason = f"Demande de dépense n° {request.id} : {request.title}"
            links = {"spending_request_id": request.id}
            if plan.round_cents:
                source = ("round", plan.reservation.round_id)
                operations.append(
                    (at, source, ("payees",), plan.round_cents, reason, finance,
                     {**links, "reservation_id": plan.reservation.id})
                )  # fmt: skip
            if plan.envelope_cents:
                source = ("envelope", plan.group.id)
                operations.append(
                    (at, source, ("payees",), plan.envelope_cents, reason, finance, links)
                )
        operations.sort(key=lambda op: op[0])
        # The balances, operation after operation: an envelope never goes below zero.
        balances: Counter = Counter()
        first_use: dict[tuple, datetime] = {}
        for at, source, destination, amount, *_ in operations:
            first_use.setdefault(source, at)
            first_use.setdefault(destination, at)
            balances[source] -= amount
            balances[destination] += amount
            if source[0] == "envelope" and balances[source] < 0:
                raise RuntimeError(f"a demo envelope would go below zero on {at:%d/%m/%Y}")
        outside = {(kind.value,): ledger_account(kind) for kind in OUTSIDE_ACCOUNTS}
        _lock(*outside.values())
        for key, outside_account in outside.items():
            outside_account.balance_cents += balances[key]
            outside_account.created_at = min(outside_account.created_at, first_use[key])
        # The envelopes and the rounds' accounts, created by their first operation with the
        # balance the operations add up to.
        session.execute(
            LedgerAccount.__table__.insert(),
            [
                {
                    "kind": AccountKind(key[0]),
                    "group_id": key[1] if key[0] == AccountKind.envelope else None,
                    "round_id": key[1] if key[0] == AccountKind.round else None,
                    "balance_cents": balances[key],
                    "created_at": at,
                }
                for key, at in first_use.items()
                if key not in outside
            ],
        )
        ids = {key: outside_account.id for key, outside_account in outside.items()}
        for account_id, kind, group_id, round_id in session.execute(
            select(
                LedgerAccount.id, LedgerAccount.kind, LedgerAccount.group_id, LedgerAccount.round_id
            ).where(LedgerAccount.kind.in_([AccountKind.envelope, AccountKind.round]))
        ):
            ids[(kind.value, group_id or round_id)] = account_id
        ledger_rows = [
            {
                "amount_cents": amount,
                "source_id": ids[source],
                "destination_id": ids[destination],
                "reason": reason,
                "at": at,
                "actor_id": actor.id,
                "reverses_id": None,
                "reference": None,
                "spending_request_id": None,
                "reservation_id": None,
                **links,
            }
            for at, source, destination, amount, reason, actor, links in operations
        ]
        # Written in bulk (executemany): the ORM would insert them one by one to learn their ids.
        for model, values in (
            (SpendingReceipt, receipt_rows),
            (SpendingEvent, event_rows),
            (LedgerOperation, ledger_rows),
        ):
            session.execute(model.__table__.insert(), values)
        session.add_all(audits)
        session.flush()

        # What was loaded, and what to try.
        envelopes = {g.id: balances[("envelope", g.id)] for g in groups}
        by_status = Counter(p.expense.status for p in plans)
        statuses = ", ".join(
            f"{by_status[s]} {SPENDING_LABELS[s][by_status[s] > 1]}" for s in SpendingStatus
        )
        richest = max(groups, key=lambda g: (envelopes[g.id], -g.id))
        round_total = sum(p.round_cents or 0 for p in plans)
        envelope_total = sum(p.envelope_cents or 0 for p in plans)

        def euros(cents: int) -> str:
            return format_cents(cents).replace("\u202f", " ").replace("\xa0", " ")

        facts = [
            f"- {len(donations)} dons fléchés ({euros(sum(d[2] for d in donations))}) inscrits "
            f"en {len(batches)} imports dans les enveloppes des {len(groups)} groupes certifiés : "
            f"la mieux dotée, celle du {_lower(richest.name)}, contient "
            f"{euros(envelopes[richest.id])} ; celle du {_lower(nearly_empty.name)}, "
            f"{euros(envelopes[nearly_empty.id])} ;",
            f"- {len(plans)} demandes de dépense : {statuses} ; {euros(round_total)} pris sur les "
            f"budgets participatifs, {euros(envelope_total)} sur les enveloppes ; "
            f"{len(receipt_rows)} justificatifs (fichiers dans "
            f"{Path(root) / receipt_files.FOLDER}).",
        ]
        to_validate = next(
            p
            for p in plans
            if p.group is demo_groups["referent"]
            and p.expense.status == SS.awaiting_group
            and p.author is not manager
        )
        asked = next(
            p
            for p in plans
            if p.group is demo_groups["referent"] and p.expense.status == SS.info_requested
        )
        short = next(
            p for p in plans if p.group is nearly_empty and p.expense.status == SS.awaiting_finance
        )
        tries = [
            f"- {manager.email} valide « {to_validate.expense.title} », déposée par "
            f"{to_validate.author.display_name}, et répond à la question de l'équipe financière "
            f"sur « {asked.expense.title} » ;",
            f"- {finance.email} examine les demandes reçues et les approuve ; "
            f"« {short.expense.title} » ne peut l'être : l'enveloppe du "
            f"{_lower(nearly_empty.name)} ne contient que {euros(envelopes[nearly_empty.id])}.",
        ]
        return facts, tries

    def undo(self) -> str | None:
        """Remove everything load() and illustrate() wrote, rows and files (the database was
        empty of demo data before); None, or what prevented it. record_money() commits
        nothing when it fails, and removes its own files: there is nothing of it to remove."""
        root = current_app.config["UPLOADS_PATH"]
        try:
            db.session.rollback()
            ids = self.written
            proposals = ids["proposal"]
            with write_transaction():
                self.network.delete_rows()
                stored = db.session.execute(
                    select(Illustration.stored_name, Illustration.format).where(
                        Illustration.proposal_id.in_(proposals)
                    )
                ).all()
                for column, values in (
                    (Illustration.proposal_id, proposals),
                    (MessageRead.proposal_id, proposals),
                    (ProposalMessage.proposal_id, proposals),
                    (ProposalRevision.proposal_id, proposals),
                    (BudgetLine.proposal_id, proposals),
                    (Reservation.proposal_id, proposals),
                    (Commitment.proposal_id, proposals),
                    (AuditEntry.id, ids["audit"]),
                    (Proposal.id, proposals),
                    (Membership.group_id, ids["group"]),
                    (ActionGroup.id, ids["group"]),
                    (BudgetRound.id, ids["round"]),
                    (Person.id, ids["person"]),
                ):
                    db.session.execute(delete(column.class_).where(column.in_(values)))
        except Exception as error:  # reported to the person, with the first error
            return str(error) or repr(error)
        for name, fmt in stored:
            images.remove_files(images.stored_paths(root, name, fmt))
        self.network.remove_files()
        return None
