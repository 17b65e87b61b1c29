"""The demo data set loaded by `flask demo`: a realistic French participatory budget.

It loads only into an empty database, in one write transaction, and says so otherwise: running
it twice adds nothing, and a database that already holds real data never gets demo accounts
with a published password. Rows are written directly through the models, in a few bulk
flushes, with one password hash shared by every account (hashing is the slow part), so that it
takes about a second.

The data keep the rules of DESIGN.md section 3: a proposal's counter equals its active
commitments, one commitment per (group, proposal), only certified groups commit and only to
published proposals, and the fundable transition is recorded exactly as
services.commitments.record_fundable_if_reached would have recorded it, by replaying the
commitments, withdrawals and threshold changes in time order.
"""

import random
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from werkzeug.security import generate_password_hash

from models import (
    ActionGroup,
    AuditEntry,
    BudgetRound,
    Category,
    Commitment,
    CommitmentStatus,
    MemberRole,
    Membership,
    Person,
    Proposal,
    ProposalStatus,
    db,
    fold_text,
    utcnow,
)
from services.tx import write_transaction

SEED = 2027
DEMO_PASSWORD = "demo-commun-2027"
DEMO_DOMAIN = "demo.commun.fr"
ROUND_NAME = "Budget participatif 2027"
ROUND_TOTAL_CENTS = 25_000_000  # 250 000 €
BASE_THRESHOLD = 15
UNCERTIFIED_GROUPS = 20

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
#   fundable: whether replaying all this must make it fundable (checked when loading).


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
            active=27,
            days=33,
            override=25,
            override_reason="Action plus coûteuse que la moyenne : seuil relevé à 25 groupes.",
            fundable=True,
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
        origin="manager",
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

STATUS_LABELS = {
    ProposalStatus.draft: ("brouillon", "brouillons"),
    ProposalStatus.submitted: ("soumise", "soumises"),
    ProposalStatus.in_review: ("en relecture", "en relecture"),
    ProposalStatus.published: ("publiée", "publiées"),
    ProposalStatus.declined: ("refusée", "refusées"),
    ProposalStatus.withdrawn: ("retirée", "retirées"),
}


# ---------------------------------------------------------------------------------------------
# Helpers.


def _ascii(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(fold_text(title))).strip("-")


def _euros(cents: int, sep: str = "\u202f") -> str:
    return f"{cents // 100:,}".replace(",", sep) + " €"


def _body(spec: Spec) -> str:
    lines = [spec.why, "", "## Comment faire", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(spec.steps, 1)]
    lines += ["", "## Matériel", ""]
    lines += [f"- {item}" for item in spec.material]
    lines += ["", "## Budget pour un groupe", "", "| Poste | Montant |", "| --- | ---: |"]
    lines += [f"| {label} | {_euros(euros * 100)} |" for label, euros in spec.lines]
    lines.append(f"| **Total** | **{_euros(_budget_cents(spec))}** |")
    if spec.tips:
        lines += ["", "## Conseils", "", spec.tips]
    return "\n".join(lines) + "\n"


def _budget_cents(spec: Spec) -> int:
    return sum(euros for _, euros in spec.lines) * 100


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
) -> AuditEntry:
    # Every column given, so that the rows are inserted in one batch.
    return AuditEntry(
        at=at,
        actor_id=actor.id,
        action=action,
        group_id=group_id,
        proposal_id=proposal_id,
        person_id=None,
        old_value=str(old),
        new_value=new,
        reason=reason,
    )


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


# ---------------------------------------------------------------------------------------------
# Loading.


def load_demo(echo) -> bool:
    """Load the demo data set into an empty database; True if it was loaded."""
    started = time.perf_counter()
    with write_transaction():
        state = existing_demo(db.session)
        if state is None:
            summary = _Loader(random.Random(SEED), utcnow()).load()
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
    elapsed = time.perf_counter() - started
    seconds = f"{elapsed:.1f}".replace(".", ",")
    echo(f"Données de démonstration chargées en {seconds} s.")
    echo("")
    echo(summary)
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


class _Loader:
    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        self.password_hash = generate_password_hash(DEMO_PASSWORD)
        self.emails = _Emails({email for _, _, email, _ in DEMO_ACCOUNTS})

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

    def load(self) -> str:
        rng, session = self.rng, db.session

        # People with a demo account, the round, the groups.
        accounts = {
            key: self.person(
                email,
                name,
                self.ago(days=500 - 10 * n),
                **({key: True} if key in ("animation", "finance", "admin") else {}),
            )
            for n, (key, _, email, name) in enumerate(DEMO_ACCOUNTS)
        }
        budget_round = BudgetRound(
            name=ROUND_NAME,
            total_cents=ROUND_TOTAL_CENTS,
            base_threshold=BASE_THRESHOLD,
            created_at=self.ago(days=70),
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
        session.add(budget_round)
        session.add_all(accounts.values())
        session.add_all(groups.values())
        session.flush()

        # Members: every group has a manager, often a referent too, and a few members.
        people: list[Person] = []
        roles: list[tuple[Person, ActionGroup, MemberRole]] = []
        acting: dict[int, list[Person]] = {}  # group id -> who acts for it
        for group in groups.values():
            team = [(self.random_person(group.created_at), MemberRole.manager)]
            if rng.random() < 0.5:
                team.append((self.random_person(group.created_at), MemberRole.referent))
            for _ in range(rng.randint(1, 3)):
                joined = group.created_at + timedelta(days=rng.uniform(1, 30))
                team.append((self.random_person(min(joined, self.now)), MemberRole.member))
            for person, role in team:
                people.append(person)
                roles.append((person, group, role))
        demo_manager = accounts["manager"]
        roles += [
            (demo_manager, groups[MANAGER_REFERENT_OF], MemberRole.referent),
            (demo_manager, groups[MANAGER_MANAGER_OF], MemberRole.manager),
            (accounts["membre"], groups[MANAGER_REFERENT_OF], MemberRole.member),
            (accounts["non_certifie"], groups[UNCERTIFIED_MANAGER_OF], MemberRole.manager),
        ]
        session.add_all(people)
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

        # Proposals, then the commitments of published ones.
        demo_groups = {
            "referent": groups[MANAGER_REFERENT_OF],
            "manager": groups[MANAGER_MANAGER_OF],
        }
        pool = [
            g for key, g in groups.items() if g.certified_at is not None and key not in demo_keys
        ]
        proposals: list[tuple[Spec, Proposal]] = []
        slugs: set[str] = set()
        for spec in PROPOSALS:
            slug = slugify(spec.title)
            if slug in slugs:
                raise RuntimeError(f"two demo proposals have the slug {slug!r}")
            slugs.add(slug)
            origin = demo_groups[spec.origin] if spec.origin else rng.choice(pool)
            if spec.plan is not None:
                published_at = self.ago(days=spec.plan.days, hours=rng.uniform(1, 8))
                created_at = published_at - timedelta(days=rng.uniform(7, 21))
            else:
                published_at = None
                created_at = self.ago(days=rng.uniform(3, 50))
            proposal = Proposal(
                round_id=budget_round.id,
                title=spec.title,
                slug=slug,
                summary=spec.summary,
                body=_body(spec),
                category=spec.category,
                per_group_budget_cents=_budget_cents(spec),
                origin_group_id=origin.id,
                status=spec.status,
                published_at=published_at,
                created_at=created_at,
                updated_at=published_at or created_at + timedelta(days=rng.uniform(0, 2)),
            )
            proposals.append((spec, proposal))
        session.add_all(proposal for _, proposal in proposals)
        session.flush()

        commitments = []
        animation = accounts["animation"]
        for spec, proposal in proposals:
            if spec.plan is None:
                if spec.reason:
                    declined = spec.status == ProposalStatus.declined
                    actor = animation if declined else acting[proposal.origin_group_id][0]
                    audits.append(
                        _audit(
                            proposal.updated_at,
                            actor,
                            "proposal.decline" if declined else "proposal.withdraw",
                            proposal_id=proposal.id,
                            old=(
                                ProposalStatus.in_review if declined else ProposalStatus.submitted
                            ),
                            new=spec.status.value,
                            reason=spec.reason,
                        )
                    )
                continue
            new, audit = self.commitments(spec.plan, proposal, demo_groups, pool, acting)
            commitments += new
            audits += [
                _audit(
                    at,
                    animation,
                    "proposal.threshold_override",
                    proposal_id=proposal.id,
                    new=str(value),
                    reason=reason,
                )
                for at, value, reason in audit
            ]
        session.add_all(commitments)
        session.add_all(audits)
        session.flush()
        return self.summary(groups, people, accounts, proposals, commitments)

    def commitments(self, plan: Plan, proposal: Proposal, demo_groups, pool, acting):
        """The commitments of one published proposal and its fundable transition."""
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
            committers = [origin, *rest]
        start = proposal.published_at + timedelta(hours=2)
        span = (self.now - timedelta(hours=3) - start).total_seconds()
        # More commitments soon after publication, fewer later.
        times = sorted(start + timedelta(seconds=span * rng.random() ** 1.5) for _ in committers)
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
                    self.now - timedelta(hours=1),
                )
                for i in rng.sample(candidates, plan.withdrawn)
            }
            events = commits + [(at, "withdraw", 1) for at in withdrawn.values()]
            transition = _fundable_transition(events, BASE_THRESHOLD)
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
        threshold = plan.override or BASE_THRESHOLD
        if (transition is not None) != plan.fundable or (
            plan.near != (transition is None and threshold - plan.active <= 2)
        ):
            raise RuntimeError(f"the demo plan of {proposal.title!r} is inconsistent")
        last = max([proposal.published_at, *(e[0] for e in events)])
        proposal.updated_at = max(last, proposal.fundable_at or last)
        return rows, overrides

    def summary(self, groups, people, accounts, proposals, commitments) -> str:
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
        near = next(p for spec, p in proposals if spec.plan and spec.plan.near)
        threshold = near.threshold_override or BASE_THRESHOLD
        manager = accounts["manager"].email
        return "\n".join(
            [
                f"- {ROUND_NAME} : {_euros(ROUND_TOTAL_CENTS, ' ')}, seuil de base "
                f"{BASE_THRESHOLD} groupes ;",
                f"- {len(groups)} groupes d'action dans {departements} départements "
                f"({certified} certifiés, {len(groups) - certified} en attente de "
                "certification) ;",
                f"- {len(people) + len(accounts)} personnes ;",
                f"- {len(proposals)} propositions : {statuses} ;",
                f"- {active} engagements actifs ({len(commitments) - active} retirés).",
                "",
                f"À essayer : « {near.title} » compte {near.commitment_count} groupes engagés "
                f"sur {threshold}. Connectez-vous avec {manager} et engagez vos deux groupes : "
                "elle devient finançable sous vos yeux.",
            ]
        )
