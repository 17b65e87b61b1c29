"""National-scale data of the network of elected officials, for the benchmark (loaded by
bench.generate after the budget's data, with SQLAlchemy Core bulk inserts).

About 3,000 NetworkMember rows (90 % members, the others pending, declined or excluded) with
about 4,800 mandates at every level, each of a role its level allows (models.ROLES_BY_LEVEL),
on terms of the French electoral calendar, two mandates of one person on the same council
never overlapping; 60 themes; 20,000 resources of every kind with their levels, themes and
reuse marks (`reuse_count` equals its rows, never by the author), whose `search_text` is
services.library.search_text_of, the very text the app indexes (SQLite's FTS5 table is
filled by its triggers, PostgreSQL's GIN index by the insert); 2,000 threads with 60,000
posts (a few hidden, some quoting an earlier one; `post_count` counts the visible ones and
`last_post_at` is the last visible one's) and the subscriptions the app would have made
(every poster follows the thread) plus members following themes.

The texts are built from a vocabulary of about 280 phrases of local policy, each
tied to a theme: a word of a theme is found in a few hundred resources, not in all of them.
Dates are spread over the last three years (not tied to each member's acceptance date).
No file is attached to the resources (downloads are not benchmarked), and no notification
is owed.

A bench member, MEMBER_EMAIL / MEMBER_PASSWORD, is a member of the network (municipal and
intercommunal mandates in Gironde) who wrote nothing: the network scenarios sign in as them.
"""

import math
import random
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode

from sqlalchemy import and_, func, insert, or_, select, text
from sqlalchemy.orm import aliased

from models import (
    ROLES_BY_LEVEL,
    Mandate,
    MandateLevel,
    MandateRole,
    MandateSide,
    NetworkMember,
    NetworkStatus,
    NetworkTheme,
    NotifyMode,
    Person,
    Post,
    Resource,
    ResourceKind,
    ResourceLevel,
    ResourceOutcome,
    ResourceReuse,
    Subscription,
    Thread,
    db,
    fold_text,
    network_member_theme,
    resource_theme,
)

MEMBER_EMAIL = "elu.bench@commun.example"
MEMBER_PASSWORD = "reseau-banc-d-essai-2026"
# The words the search scenarios look for: each must find hundreds of resources, not all.
SEARCH_WORDS = (
    "cantine",
    "régie",
    "logement",
    "transports",
    "école",
    "crèche",
    "énergie",
    "hôpital",
)
SEARCH_HITS_MIN = 100
SEARCH_HITS_MAX_SHARE = 0.075
# The thread scenarios read threads of about 30 visible posts.
THREAD_POSTS = range(25, 36)
BATCH = 5_000

L, R = MandateLevel, MandateRole

# --------------------------------------------------------------------------- places

# code, "de" form of the département's name, region.
_DEPARTEMENTS = (
    "02 de l'Aisne HDF; 03 de l'Allier ARA; 04 des Alpes-de-Haute-Provence PACA; "
    "05 des Hautes-Alpes PACA; 06 des Alpes-Maritimes PACA; 09 de l'Ariège OCC; "
    "10 de l'Aube GE; 12 de l'Aveyron OCC; 13 des Bouches-du-Rhône PACA; 14 du Calvados NOR; "
    "17 de la Charente-Maritime NA; 18 du Cher CVL; 19 de la Corrèze NA; "
    "21 de la Côte-d'Or BFC; 22 des Côtes-d'Armor BRE; 23 de la Creuse NA; 25 du Doubs BFC; "
    "26 de la Drôme ARA; 29 du Finistère BRE; 2A de la Corse-du-Sud COR; "
    "2B de la Haute-Corse COR; 30 du Gard OCC; 31 de la Haute-Garonne OCC; 32 du Gers OCC; "
    "33 de la Gironde NA; 34 de l'Hérault OCC; 35 d'Ille-et-Vilaine BRE; "
    "37 d'Indre-et-Loire CVL; 38 de l'Isère ARA; 42 de la Loire ARA; "
    "44 de la Loire-Atlantique PDL; 45 du Loiret CVL; 46 du Lot OCC; 48 de la Lozère OCC; "
    "49 de Maine-et-Loire PDL; 50 de la Manche NOR; 51 de la Marne GE; 53 de la Mayenne PDL; "
    "54 de Meurthe-et-Moselle GE; 56 du Morbihan BRE; 57 de la Moselle GE; 59 du Nord HDF; "
    "60 de l'Oise HDF; 62 du Pas-de-Calais HDF; 63 du Puy-de-Dôme ARA; "
    "64 des Pyrénées-Atlantiques NA; 66 des Pyrénées-Orientales OCC; 67 du Bas-Rhin GE; "
    "68 du Haut-Rhin GE; 69 du Rhône ARA; 71 de Saône-et-Loire BFC; 72 de la Sarthe PDL; "
    "73 de la Savoie ARA; 74 de la Haute-Savoie ARA; 75 de Paris IDF; "
    "76 de la Seine-Maritime NOR; 79 des Deux-Sèvres NA; 80 de la Somme HDF; 81 du Tarn OCC; "
    "83 du Var PACA; 84 de Vaucluse PACA; 86 de la Vienne NA; 87 de la Haute-Vienne NA; "
    "88 des Vosges GE; 92 des Hauts-de-Seine IDF; 93 de la Seine-Saint-Denis IDF; "
    "94 du Val-de-Marne IDF; 95 du Val-d'Oise IDF; 971 de la Guadeloupe GP; "
    "972 de la Martinique MQ; 973 de la Guyane GF; 974 de La Réunion RE"
)
DEPARTEMENTS = {
    code: (name, region)
    for code, _, rest in (item.partition(" ") for item in _DEPARTEMENTS.split("; "))
    for name, _, region in [rest.rpartition(" ")]
}
REGIONAL_COUNCILS = {
    "ARA": "Conseil régional d'Auvergne-Rhône-Alpes",
    "BFC": "Conseil régional de Bourgogne-Franche-Comté",
    "BRE": "Conseil régional de Bretagne",
    "CVL": "Conseil régional du Centre-Val de Loire",
    "COR": "Assemblée de Corse",
    "GE": "Conseil régional du Grand Est",
    "HDF": "Conseil régional des Hauts-de-France",
    "IDF": "Conseil régional d'Île-de-France",
    "NOR": "Conseil régional de Normandie",
    "NA": "Conseil régional de Nouvelle-Aquitaine",
    "OCC": "Conseil régional d'Occitanie",
    "PDL": "Conseil régional des Pays de la Loire",
    "PACA": "Conseil régional de Provence-Alpes-Côte d'Azur",
    "GP": "Conseil régional de la Guadeloupe",
    "MQ": "Assemblée de Martinique",
    "GF": "Assemblée de Guyane",
    "RE": "Conseil régional de La Réunion",
}
# Where a collectivité unique (or the Conseil de Paris) stands in for the département.
NO_DEPARTEMENT_COUNCIL = {"75", "972", "973", "2A", "2B"}

# Communes: name, département, intercommunality ("-": an agglomeration of the commune's name).
_COMMUNES = """
Paris 75 Métropole du Grand Paris
Marseille 13 Métropole d'Aix-Marseille-Provence
Lyon 69 Métropole de Lyon
Toulouse 31 Toulouse Métropole
Nice 06 Métropole Nice Côte d'Azur
Nantes 44 Nantes Métropole
Montpellier 34 Montpellier Méditerranée Métropole
Strasbourg 67 Eurométropole de Strasbourg
Bordeaux 33 Bordeaux Métropole
Lille 59 Métropole européenne de Lille
Rennes 35 Rennes Métropole
Reims 51 Grand Reims
Toulon 83 Métropole Toulon Provence Méditerranée
Grenoble 38 Grenoble-Alpes Métropole
Dijon 21 Dijon Métropole
Angers 49 Angers Loire Métropole
Nîmes 30 Nîmes Métropole
Villeurbanne 69 Métropole de Lyon
Clermont-Ferrand 63 Clermont Auvergne Métropole
Le Mans 72 Le Mans Métropole
Aix-en-Provence 13 Métropole d'Aix-Marseille-Provence
Brest 29 Brest Métropole
Tours 37 Tours Métropole Val de Loire
Amiens 80 Amiens Métropole
Limoges 87 Limoges Métropole
Annecy 74 Grand Annecy
Perpignan 66 Perpignan Méditerranée Métropole
Besançon 25 Grand Besançon Métropole
Metz 57 Metz Métropole
Orléans 45 Orléans Métropole
Rouen 76 Métropole Rouen Normandie
Mulhouse 68 Mulhouse Alsace Agglomération
Caen 14 Communauté urbaine Caen la Mer
Nancy 54 Métropole du Grand Nancy
Argenteuil 95 Communauté d'agglomération Val Parisis
Saint-Denis 93 Établissement public territorial Plaine Commune
Montreuil 93 Établissement public territorial Est Ensemble
Roubaix 59 Métropole européenne de Lille
Avignon 84 Grand Avignon
Poitiers 86 Grand Poitiers
Pau 64 Communauté d'agglomération Pau Béarn Pyrénées
La Rochelle 17 -
Ajaccio 2A Communauté d'agglomération du Pays ajaccien
Bastia 2B -
Fort-de-France 972 Communauté d'agglomération du Centre de la Martinique
Pointe-à-Pitre 971 Communauté d'agglomération Cap Excellence
Cayenne 973 Communauté d'agglomération du Centre Littoral
Saint-Pierre 974 Communauté intercommunale des villes solidaires
Quimper 29 Quimper Bretagne Occidentale
Valence 26 Valence Romans Agglo
Troyes 10 Troyes Champagne Métropole
Chambéry 73 Grand Chambéry
Niort 79 Communauté d'agglomération du Niortais
Lorient 56 Lorient Agglomération
Vannes 56 Golfe du Morbihan-Vannes Agglomération
Albi 81 -
Gap 05 -
Auch 32 Communauté d'agglomération Grand Auch Cœur de Gascogne
Guéret 23 Communauté d'agglomération du Grand Guéret
Mende 48 Communauté de communes Cœur de Lozère
Foix 09 Communauté d'agglomération Pays Foix-Varilhes
Laval 53 Laval Agglomération
Épinal 88 -
Bourges 18 Bourges Plus
Cahors 46 Communauté d'agglomération du Grand Cahors
Rodez 12 Rodez Agglomération
Pessac 33 Bordeaux Métropole
Mérignac 33 Bordeaux Métropole
Bègles 33 Bordeaux Métropole
Talence 33 Bordeaux Métropole
Libourne 33 Communauté d'agglomération du Libournais
Arcachon 33 Communauté d'agglomération du Bassin d'Arcachon Sud
Vénissieux 69 Métropole de Lyon
Vaulx-en-Velin 69 Métropole de Lyon
Aubagne 13 Métropole d'Aix-Marseille-Provence
Martigues 13 Métropole d'Aix-Marseille-Provence
Colomiers 31 Toulouse Métropole
Blagnac 31 Toulouse Métropole
Rezé 44 Nantes Métropole
Saint-Nazaire 44 Communauté d'agglomération de la région nazairienne
Sète 34 Sète Agglopôle Méditerranée
Échirolles 38 Grenoble-Alpes Métropole
Saint-Martin-d'Hères 38 Grenoble-Alpes Métropole
Tourcoing 59 Métropole européenne de Lille
Villeneuve-d'Ascq 59 Métropole européenne de Lille
Dunkerque 59 Communauté urbaine de Dunkerque
Aubervilliers 93 Établissement public territorial Plaine Commune
Bobigny 93 Établissement public territorial Est Ensemble
Stains 93 Établissement public territorial Plaine Commune
Ivry-sur-Seine 94 Établissement public territorial Grand-Orly Seine Bièvre
Vitry-sur-Seine 94 Établissement public territorial Grand-Orly Seine Bièvre
Nanterre 92 Établissement public territorial Paris Ouest La Défense
Gennevilliers 92 Établissement public territorial Boucle Nord de Seine
Saint-Étienne 42 Saint-Étienne Métropole
Firminy 42 Saint-Étienne Métropole
Lanester 56 Lorient Agglomération
Morlaix 29 Morlaix Communauté
Douarnenez 29 Douarnenez Communauté
Montluçon 03 Montluçon Communauté
Vierzon 18 Communauté de communes Vierzon-Sologne-Berry
Tulle 19 Tulle Agglo
Figeac 46 Communauté de communes du Grand-Figeac
Millau 12 Communauté de communes Millau Grands Causses
Carmaux 81 Communauté de communes Carmausin-Ségala
Alès 30 Alès Agglomération
Arles 13 Communauté d'agglomération Arles Crau Camargue Montagnette
Digne-les-Bains 04 Provence-Alpes Agglomération
Briançon 05 Communauté de communes du Briançonnais
Die 26 Communauté de communes du Diois
Le Creusot 71 Communauté urbaine Creusot Montceau
Saint-Brieuc 22 Saint-Brieuc Armor Agglomération
Lannion 22 Lannion-Trégor Communauté
Cherbourg-en-Cotentin 50 Communauté d'agglomération du Cotentin
Le Havre 76 Le Havre Seine Métropole
Dieppe 76 Communauté d'agglomération de la région dieppoise
Calais 62 Communauté d'agglomération Grand Calais Terres et Mers
Lens 62 Communauté d'agglomération de Lens-Liévin
Saint-Quentin 02 Communauté d'agglomération du Saint-Quentinois
Creil 60 Communauté d'agglomération Creil Sud Oise
Le Port 974 Territoire de la Côte Ouest
Saint-Laurent-du-Maroni 973 Communauté de communes de l'Ouest guyanais
Le Lamentin 972 Communauté d'agglomération du Centre de la Martinique
Les Abymes 971 Communauté d'agglomération Cap Excellence
"""


def _commune(line: str) -> tuple[str, str, str]:
    words = line.split(" ")
    at = next(i for i, w in enumerate(words) if w in DEPARTEMENTS)
    interco = " ".join(words[at + 1 :])
    return " ".join(words[:at]), words[at], "" if interco == "-" else interco


COMMUNES = [_commune(line) for line in _COMMUNES.strip().splitlines()]


def _listed(text_: str) -> tuple[str, ...]:
    return tuple(text_.split("; "))


CONSULAR = _listed(
    "Montréal; Bruxelles; Berlin; Londres; Genève; Barcelone; Dakar; Casablanca; Tunis; "
    "Abidjan; Buenos Aires; Mexico; Tokyo; Pondichéry; Beyrouth; Madrid; Rome; Lisbonne"
)


def de(name: str) -> str:
    """« de Bordeaux », « d'Angers », « du Mans », « des Abymes »."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    return ("d'" if fold_text(name[0]) in "aeiouy" else "de ") + name


def intercommunality(name: str, known: str) -> str:
    """The intercommunality a commune belongs to (an agglomeration of its name if unknown)."""
    return known or f"Communauté d'agglomération {de(name)}"


# --------------------------------------------------------------------------- mandates

# Installation dates of the councils (the French electoral calendar).
CALENDAR: dict[MandateLevel, tuple[date, ...]] = {
    L.municipal: (date(2008, 3, 21), date(2014, 3, 28), date(2020, 7, 4), date(2026, 3, 28)),
    L.intercommunal: (
        date(2008, 4, 18),
        date(2014, 4, 18),
        date(2020, 7, 16),
        date(2026, 4, 16),
    ),
    L.departemental: (date(2011, 3, 31), date(2015, 4, 2), date(2021, 7, 1), date(2028, 3, 30)),
    L.regional: (date(2010, 3, 26), date(2016, 1, 4), date(2021, 7, 2), date(2028, 3, 31)),
    L.depute: (date(2012, 6, 26), date(2017, 6, 27), date(2022, 6, 28), date(2024, 7, 18)),
    L.senateur: (date(2011, 10, 1), date(2017, 10, 2), date(2023, 10, 2), date(2029, 10, 1)),
    L.europeen: (date(2009, 7, 14), date(2014, 7, 1), date(2019, 7, 2), date(2024, 7, 16)),
    L.francais_etranger: (date(2014, 6, 2), date(2021, 6, 7), date(2026, 6, 8)),
}
# A term counts as the one under way once it began this long ago.
SETTLED = timedelta(days=150)
LEVEL_WEIGHTS = {
    L.municipal: 55,
    L.intercommunal: 12,
    L.departemental: 10,
    L.regional: 8,
    L.depute: 5,
    L.senateur: 4,
    L.europeen: 2,
    L.francais_etranger: 4,
}
ROLE_WEIGHTS = {
    R.maire: 8,
    R.adjoint: 30,
    R.president: 3,
    R.vice_president: 20,
    R.conseiller: 62,
    R.parlementaire: 1,
}


def term(level: MandateLevel, back: int, today: date) -> tuple[date, date | None] | None:
    """The term under way (back=0) or the one `back` terms before: first and last day."""
    starts = [d for d in CALENDAR[level] if d <= today - SETTLED]
    if back >= len(starts):
        return None
    start = starts[-1 - back]
    return start, (None if back == 0 else starts[-back] - timedelta(days=1))


def council_of(level: MandateLevel, commune: tuple[str, str, str], rng) -> tuple[str, str | None]:
    """The council a person of this commune sits on at this level, and its département."""
    name, dep, interco = commune
    dep_name, region = DEPARTEMENTS[dep]
    if level is L.municipal:
        return ("Conseil de Paris" if dep == "75" else f"Conseil municipal {de(name)}"), dep
    if level is L.intercommunal:
        return intercommunality(name, interco), dep
    if level is L.departemental:
        return f"Conseil départemental {dep_name}", dep
    if level is L.regional:
        return REGIONAL_COUNCILS[region], dep
    if level is L.depute:
        n = rng.randint(1, 8)
        return f"Assemblée nationale, {n}{'re' if n == 1 else 'e'} circonscription {dep_name}", dep
    if level is L.senateur:
        return f"Sénat, élu·e {dep_name}", dep
    if level is L.europeen:
        return "Parlement européen", None
    return f"Conseil consulaire {de(rng.choice(CONSULAR))}", None


def _role(level: MandateLevel, rng) -> MandateRole:
    roles = ROLES_BY_LEVEL[level]
    return rng.choices(roles, [ROLE_WEIGHTS[r] for r in roles])[0]


def _overlaps(a: tuple[date, date | None], b: tuple[date, date | None]) -> bool:
    far = date.max
    return a[0] <= (b[1] or far) and b[0] <= (a[1] or far)


# --------------------------------------------------------------------------- vocabulary

# 60 themes, each with the words and phrases of local policy its texts use, with their
# article (« sur {kw} », « pour {kw} » read as French). Theme: phrase; phrase… (a line starting
# with spaces goes on with the one before).
_THEMES = """
Eau en régie publique: l'eau potable; la régie publique de l'eau; l'assainissement; la
    tarification sociale de l'eau; les compteurs d'eau; les fuites du réseau d'eau; la
    délégation de service public
Cantines bio: la cantine scolaire; les produits bio; les circuits courts; la légumerie; le
    repas végétarien; les producteurs locaux; le gaspillage alimentaire
Services publics: les bureaux de poste; les maisons France services; la fermeture de la
    trésorerie; l'accueil du public; les guichets de proximité
Dotations: la dotation globale de fonctionnement; la péréquation; la dotation de solidarité
    urbaine; les compensations de l'État; la baisse des dotations
Travail détaché: le travail détaché; les clauses sociales; la sous-traitance en cascade; le
    dumping social; l'inspection du travail
Logement social: le logement social; les bailleurs sociaux; la loi SRU; l'encadrement des
    loyers; la réquisition des logements vacants; les expulsions locatives; l'habitat indigne
Transports gratuits: les transports gratuits; la gratuité des bus; le tramway; le versement
    mobilité; la desserte des quartiers; les transports en commun
Vélo: les pistes cyclables; le plan vélo; le stationnement des vélos; les zones apaisées; la
    vélo-école
Budget participatif: le budget participatif; les projets d'habitant·es; le vote des
    habitant·es; l'enveloppe par quartier
Démocratie locale: les conseils de quartier; le référendum local; le droit d'interpellation;
    l'assemblée citoyenne; le tirage au sort
Énergie citoyenne: les énergies renouvelables; les panneaux solaires; la coopérative
    énergétique; la régie d'électricité; la précarité énergétique
Rénovation thermique: la rénovation thermique; les passoires thermiques; l'isolation des
    bâtiments publics; le chauffage urbain; les chaudières
Centres de santé: le centre de santé municipal; les médecins salariés; les déserts médicaux;
    la permanence des soins; la santé mentale
Écoles: l'école publique; les groupes scolaires; la rénovation des écoles; la carte scolaire;
    les fermetures de classes; le périscolaire; les ATSEM
Petite enfance: les crèches; les places en crèche; les assistantes maternelles; le relais
    petite enfance; l'accueil du jeune enfant
Commande publique: la commande publique; les appels d'offres; les critères environnementaux;
    l'allotissement; les achats responsables
Finances locales: le budget primitif; le compte administratif; la taxe foncière;
    l'endettement; la capacité d'autofinancement; les emprunts toxiques
Urbanisme: le plan local d'urbanisme; les permis de construire; l'artificialisation des sols;
    le zéro artificialisation nette; les friches
Agriculture paysanne: les terres agricoles; l'installation de paysan·nes; la régie agricole;
    le marché de producteurs; le foncier agricole
Forêts: la forêt communale; les coupes rases; l'Office national des forêts; la gestion durable
    des forêts; le bois énergie
Biodiversité: la biodiversité; la trame verte; le zéro pesticide; les haies bocagères; l'atlas
    de la biodiversité
Déchets: le tri des biodéchets; le compostage; la redevance incitative; la ressourcerie;
    l'incinérateur; la collecte des ordures
Climat: le plan climat; l'adaptation au changement climatique; les îlots de chaleur; la
    canicule; la sobriété
Sécheresse et partage de l'eau: la sécheresse; les méga-bassines; l'irrigation; les
    restrictions d'eau; le partage de l'eau
Culture: la médiathèque; le spectacle vivant; les intermittent·es; l'éducation artistique; le
    conservatoire
Sport: les équipements sportifs; la piscine municipale; les clubs amateurs; le sport-santé; le
    gymnase
Jeunesse: la maison des jeunes; le conseil municipal des jeunes; le service civique; les
    animateur·ices
Personnes âgées: les EHPAD publics; le maintien à domicile; l'aide à domicile; la résidence
    autonomie; l'isolement des aîné·es
Handicap: l'accessibilité; les AESH; l'inclusion des personnes handicapées; l'accessibilité
    des bâtiments publics
Égalité femmes-hommes: l'égalité femmes-hommes; les violences faites aux femmes; le budget
    genré; la parité
Lutte contre les discriminations: les discriminations; les contrôles au faciès; le racisme;
    l'observatoire des discriminations
Accueil des exilé·es: l'accueil des réfugié·es; l'hébergement d'urgence; les mineurs non
    accompagnés; la ville accueillante
Tranquillité publique: la police municipale; la vidéosurveillance; les médiateurs de nuit; la
    prévention de la délinquance
Numérique: les logiciels libres; l'inclusion numérique; les données publiques; la fracture
    numérique; la fibre optique
Services funéraires: les pompes funèbres publiques; la régie funéraire; le coût des obsèques;
    le cimetière; le crématorium
Tarification sociale: le quotient familial; la tarification sociale; les tarifs solidaires; la
    gratuité des premiers besoins
Alimentation: la sécurité sociale de l'alimentation; l'épicerie solidaire; l'aide alimentaire;
    le projet alimentaire territorial; les jardins partagés
Ruralité: la revitalisation des centres-bourgs; les commerces de proximité; les petites
    villes; les services itinérants
Quartiers populaires: la politique de la ville; les quartiers prioritaires; la rénovation
    urbaine; l'ANRU; les centres sociaux
Hôpital public: l'hôpital public; la fermeture de la maternité; les urgences; les lits
    d'hospitalisation
Trains du quotidien: le fret ferroviaire; les petites lignes; les gares; les trains du
    quotidien; la SNCF
Routes et mobilités: la voirie; les routes départementales; le covoiturage; l'autopartage; les
    zones à faibles émissions
Tourisme: les meublés de tourisme; les plateformes de location; la taxe de séjour; les
    résidences secondaires
Montagne: les stations de ski; l'enneigement artificiel; le pastoralisme; le loup
Littoral: l'érosion du trait de côte; la submersion marine; les ports de pêche; les eaux de
    baignade
Outre-mer: la vie chère; le chlordécone; l'octroi de mer; la continuité territoriale
Français de l'étranger: les lycées français; les bourses scolaires; les consulats; l'AEFE
Europe: les fonds européens; le FEDER; la politique agricole commune; la directive européenne;
    les traités de libre-échange
Emploi: les territoires zéro chômeur; l'insertion par l'activité; le chômage; la régie de
    quartier
Fonction publique territoriale: les agents territoriaux; la titularisation; la précarité des
    contractuel·les; le régime indemnitaire
Vie associative: l'éducation populaire; les subventions aux associations; les maisons de
    quartier; le bénévolat
Santé environnementale: la pollution de l'air; les PFAS; les polluants éternels; les
    perturbateurs endocriniens
Condition animale: la protection animale; la fourrière; les cirques avec animaux; la
    stérilisation des chats
Laïcité: la laïcité; le financement des écoles privées; le forfait communal; la séparation des
    Églises et de l'État
Intercommunalité: le transfert de compétences; le pacte de gouvernance; la conférence des
    maires; la mutualisation des services
Statut de l'élu·e: la formation des élu·es; le statut de l'élu·e; les indemnités; la
    conciliation avec l'emploi
Droits de l'opposition: l'expression de l'opposition; le bulletin municipal; le règlement
    intérieur; les questions orales
Rivières et inondations: les rivières; la GEMAPI; les zones humides; les inondations
Pauvreté: le CCAS; le revenu de solidarité active; l'aide sociale; la domiciliation
Vie du réseau: la rencontre nationale du réseau; les formations du réseau; les outils du
    réseau; l'animation du réseau
"""


def _themes(source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    joined = re.sub(r"\n\s+", " ", source.strip())
    return tuple(
        (name, tuple(word.strip() for word in words.split(";")))
        for name, _, words in (line.partition(": ") for line in joined.splitlines())
    )


THEMES = _themes(_THEMES)

_ARTICLES = ("l'", "la ", "le ", "les ")


def bare(phrase: str) -> str:
    """« l'eau potable » → « Eau potable »."""
    for article in _ARTICLES:
        if phrase.startswith(article):
            phrase = phrase[len(article) :]
            break
    return phrase[0].upper() + phrase[1:]


KIND_WEIGHTS = {
    ResourceKind.amendement: 18,
    ResourceKind.deliberation: 20,
    ResourceKind.voeu: 16,
    ResourceKind.motion: 10,
    ResourceKind.compte_rendu: 8,
    ResourceKind.note_juridique: 10,
    ResourceKind.outil_communication: 10,
    ResourceKind.autre: 8,
}
KIND_TITLES = {
    ResourceKind.amendement: ("Amendement", "Amendement de notre groupe", "Amendement"),
    ResourceKind.deliberation: ("Délibération", "Délibération-cadre", "Délibération"),
    ResourceKind.voeu: ("Vœu", "Vœu de soutien", "Vœu"),
    ResourceKind.motion: ("Motion", "Motion de défense", "Motion"),
    ResourceKind.compte_rendu: ("Compte-rendu de mandat", "Bilan de mi-mandat"),
    ResourceKind.note_juridique: ("Note juridique", "Ce que dit le droit", "Analyse juridique"),
    ResourceKind.outil_communication: ("Tract", "Kit de campagne", "Affiche et argumentaire"),
    ResourceKind.autre: ("Retour d'expérience", "Fiche pratique", "Dossier"),
}
VOTED = (
    ResourceKind.amendement,
    ResourceKind.deliberation,
    ResourceKind.voeu,
    ResourceKind.motion,
)
SUMMARIES = (
    "Texte présenté devant {council} sur {kw}, avec un volet consacré à {kw2}.",
    "Notre groupe a porté ce texte sur {kw} ; il peut être repris presque tel quel ailleurs.",
    "Comment agir sur {kw} quand on siège dans {side} : arguments, chiffres et rédaction.",
    "Une rédaction éprouvée sur {kw}, complétée par des éléments concernant {kw2}.",
    "Retour d'expérience {commune} sur {kw}, et ce que nous en avons appris.",
    "Les points d'appui pour {kw} et les écueils à éviter, à partir d'un cas réel.",
)
THEME_SENTENCES = (
    "La question de fond, c'est {kw}.",
    "Sur {kw}, la collectivité dispose de leviers réels.",
    "Nous demandons un état des lieux précis concernant {kw}.",
    "Les habitant·es nous interpellent régulièrement sur {kw}.",
    "Plusieurs collectivités du réseau ont déjà avancé sur {kw}.",
    "Le coût pour {kw} doit être mis en regard de ses bénéfices sociaux.",
    "{Kw} relève pour partie de la compétence de {council}.",
    "Nous proposons un calendrier en trois étapes pour {kw}.",
    "{Kw} : la majorité avait promis d'agir, rien n'a bougé depuis.",
    "Un comité de suivi ouvert aux usager·es examinera chaque année {kw}.",
)
GENERIC_SENTENCES = (
    "Le texte a été présenté en séance par notre groupe.",
    "Nous vous invitons à l'adapter à votre collectivité.",
    "Les services ont chiffré la mesure et son calendrier de mise en œuvre.",
    "La majorité s'est engagée à présenter un bilan devant l'assemblée.",
    "Le débat a porté sur le coût, le calendrier et la concertation.",
    "Plusieurs associations locales ont soutenu la démarche.",
    "Un premier bilan sera présenté dans un an.",
    "La presse locale a relayé le débat.",
    "Nous avons obtenu un vote à l'unanimité sur le principe.",
    "Le préfet n'a pas formulé d'observation dans le cadre du contrôle de légalité.",
    "Les syndicats du personnel ont été reçus avant la séance.",
    "Les chiffres cités viennent des documents remis aux élu·es.",
)
DISPOSITIF = (
    "Demande au maire ou au président de présenter un rapport sur {kw}.",
    "Crée un groupe de travail pluraliste sur {kw}.",
    "Inscrit les crédits nécessaires pour {kw}.",
    "Sollicite l'État et la région pour {kw}.",
    "Associe les usager·es et les agent·es au suivi.",
)
DECISION_REASONS = {
    NetworkStatus.declined: "Aucun mandat en cours déclaré : écrivez-nous après l'élection.",
    NetworkStatus.excluded: "Propos contraires à la charte du réseau, après un échange.",
}
REUSE_PLACES = ("conseil municipal", "conseil communautaire", "conseil départemental")
THREAD_QUESTIONS = (
    "qui a de l'expérience ?",
    "vos retours ?",
    "quel modèle de texte ?",
    "comment vous y prenez-vous ?",
    "conseil la semaine prochaine, besoin d'aide",
    "partage de documents",
    "une bonne pratique à reprendre",
)
POST_OPENINGS = (
    "Merci pour ce partage.",
    "Bonjour à toutes et à tous,",
    "Chez nous, c'est passé en conseil le mois dernier.",
    "Même situation de notre côté.",
    "Je me permets de relancer le sujet.",
    "Quelques éléments de notre expérience.",
    "Attention au calendrier budgétaire.",
)
POST_SENTENCES = (
    "Sur {kw}, nous avons obtenu un engagement écrit de la majorité.",
    "Je vous envoie notre rédaction concernant {kw}, adaptée à notre conseil.",
    "Le point délicat, c'est le financement pour {kw}.",
    "Avez-vous associé les usager·es sur {kw} ?",
    "La note juridique de la bibliothèque sur {kw} nous a beaucoup servi.",
    "Notre opposition a voté contre, mais le débat sur {kw} a porté.",
    "Il faut documenter {kw} avec des chiffres locaux.",
)
FIRST_NAMES = _listed(
    "Camille; Dominique; Claude; Alix; Sacha; Lou; Marie; Jean; Fatima; Karim; Nadia; Mehdi; "
    "Sophie; Pierre; Anne; Luc; Inès; Yanis; Léa; Hugo; Chloé; Louis; Emma; Nathan; Sarah; "
    "Thomas; Julie; Nicolas; Laura; Antoine; Manon; Julien; Aïcha; Youssef; Céline; Olivier; "
    "Sandrine; Philippe; Nathalie; Éric; Isabelle; Marc; Christine; Laurent; Valérie; "
    "Stéphane; Hélène; Bruno; Martine; Alain; Mireille; Rachid; Leïla; Samir; Awa; Moussa; "
    "Élodie; Gaëlle; Maël; Soizic; Ludivine"
)
LAST_NAMES = _listed(
    "Martin; Bernard; Dubois; Thomas; Robert; Richard; Petit; Durand; Leroy; Moreau; Simon; "
    "Laurent; Lefebvre; Michel; Garcia; David; Bertrand; Roux; Vincent; Fournier; Morel; "
    "Girard; André; Lefèvre; Mercier; Dupont; Lambert; Bonnet; François; Martinez; Legrand; "
    "Garnier; Faure; Rousseau; Blanc; Guérin; Muller; Henry; Roussel; Nicolas; Perrin; Morin; "
    "Mathieu; Clément; Gauthier; Dumont; Lopez; Fontaine; Chevalier; Robin; Masson; Sanchez; "
    "Gérard; Nguyen; Boyer; Denis; Lemaire; Duval; Joly; Gautier; Roger; Roche; Roy; Noël; "
    "Meyer; Lucas; Meunier; Jean; Perez; Marchand; Dufour; Blanchard; Marie; Barbier; Brun; "
    "Dumas; Brunet; Schmitt; Leroux; Colin; Fernandez; Benali; Haddad; Diallo; Traoré; Le "
    "Goff; Le Gall; Kerjean; Etcheverry; Casanova; Hoarau; Payet; Jean-Baptiste"
)


# --------------------------------------------------------------------------- the data


@dataclass
class NetworkData:
    member_email: str
    member_password: str
    member_person_id: int
    resource_ids: list[int]
    thread_ids: list[int]  # threads of about 30 visible posts
    search_words: list[str]
    search_hits: dict[str, int] = field(default_factory=dict)  # what the app's search finds
    filter_queries: list[str] = field(default_factory=list)  # query strings, ≥ 1 result each
    directory_total: int = 0  # members found by niveau=municipal&departement=33
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds: build, insert…

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['network_member']:,} network members ({c['members']:,} accepted), "
            f"{c['mandate']:,} mandates, {c['network_theme']} themes, "
            f"{c['resource']:,} resources ({c['resource_level']:,} levels, "
            f"{c['resource_theme']:,} themes, {c['resource_reuse']:,} reuses), "
            f"{c['thread']:,} threads, {c['post']:,} posts ({c['hidden']} hidden), "
            f"{c['subscription']:,} subscriptions"
        )

    def timing(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())


@dataclass
class _Member:
    person_id: int
    member_id: int
    status: NetworkStatus
    commune: tuple[str, str, str]
    departement: str | None
    level: MandateLevel  # of the first mandate
    council: str


@contextmanager
def _folding_cached():
    """services.library folds every word of a text, one character at a time: 20,000 texts
    made of a few thousand distinct words fold much faster through a cache (the function is
    pure, the text the same)."""
    from services import library

    original = library._folded
    library._folded = _cached_fold(original)
    try:
        yield
    finally:
        library._folded = original


@lru_cache(maxsize=4)
def _cached_fold(function):
    return lru_cache(maxsize=None)(function)


def _insert(conn, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[start : start + BATCH])


def _fill_sentence(template: str, **values) -> str:
    kw = values.get("kw", "")
    return template.format(Kw=kw[:1].upper() + kw[1:], **values)


class _MandateAdder:
    """Adds one person's mandates, never two on the same council at the same time."""

    def __init__(self, rng, today: date, person_id: int, applied: datetime, rows: list[dict]):
        self.rng, self.today, self.person_id, self.applied, self.rows = (
            rng,
            today,
            person_id,
            applied,
            rows,
        )
        self.held: dict[tuple[MandateLevel, str], list[tuple[date, date | None]]] = {}

    def __call__(self, level, council, dep, back, late=False, role=None) -> bool:
        from services.themes import theme_key

        rng = self.rng
        dates = term(level, back, self.today)
        if dates is None:
            return False
        start, end = dates
        if late:  # came in during the term (a replacement)
            start = min(start + timedelta(days=rng.randint(60, 900)), end or self.today)
        key = theme_key(council)  # as services.network folds it
        if any(_overlaps((start, end), d) for d in self.held.get((level, key), [])):
            return False
        self.held.setdefault((level, key), []).append((start, end))
        self.rows.append(
            dict(
                person_id=self.person_id,
                level=level,
                council=council,
                council_key=key,
                departement=dep,
                role=role or _role(level, rng),
                side=MandateSide.majorite if rng.random() < 0.5 else MandateSide.opposition,
                starts_on=start,
                ends_on=end,
                created_at=self.applied - timedelta(hours=rng.uniform(1, 48)),
            )
        )
        return True


def fill_network(
    engine,
    *,
    members: int = 3_000,
    resources: int = 20_000,
    threads: int = 2_000,
    posts: int = 60_000,
    seed: int = 2026,
) -> NetworkData:
    """Load the network's data after the budget's (person ids follow theirs), check it, and
    read through the app's own services what the scenarios will find. Needs an app context
    bound to the same database (search_text_of and the checks go through the app)."""
    from services.library import LibraryFilters, search_resources, search_text_of
    from services.network import DirectoryFilters, directory_page
    from services.themes import theme_key

    started = time.perf_counter()
    rng = random.Random(seed * 7 + 6)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    holder = Person()
    holder.set_password(MEMBER_PASSWORD)
    password_hash = holder.password_hash  # one (slow) hash for every elected official
    with engine.connect() as conn:
        next_person = (conn.scalar(select(func.max(Person.id))) or 0) + 1

    def person_row(pid: int, email: str, name: str, created: datetime, team=False) -> dict:
        return dict(
            id=pid,
            email=email,
            display_name=name,
            password_hash=password_hash,
            auth_version=1,
            is_animation=False,
            is_finance=False,
            is_network=team,
            is_admin=False,
            created_at=created,
        )

    # The animation team: staff, who decide applications and hide posts.
    person_rows, team_ids = [], []
    for k in range(4):
        pid = next_person + k
        team_ids.append(pid)
        name = f"{FIRST_NAMES[k * 7]} {LAST_NAMES[k * 11]}"
        person_rows.append(
            person_row(pid, f"equipe.reseau{k + 1}@commun.example", name, now, team=True)
        )
    next_person += len(team_ids)

    # Themes, more or less popular (Zipf-like).
    theme_rows = [
        dict(id=i, name=name, key=theme_key(name)) for i, (name, _words) in enumerate(THEMES, 1)
    ]
    theme_ids = [row["id"] for row in theme_rows]
    theme_weights = [1 / (rank**0.6) for rank in range(1, len(theme_ids) + 1)]
    rng.shuffle(theme_weights)
    words_of = {i: words for i, (_name, words) in enumerate(THEMES, 1)}
    theme_name = {row["id"]: row["name"] for row in theme_rows}

    def pick_themes(k: int) -> list[int]:
        chosen: list[int] = []
        while len(chosen) < k:
            t = rng.choices(theme_ids, theme_weights)[0]
            if t not in chosen:
                chosen.append(t)
        return chosen

    # Members: the bench member first, then the others with shuffled statuses.
    statuses = (
        [NetworkStatus.member] * (round(members * 0.9) - 1)
        + [NetworkStatus.pending] * round(members * 0.05)
        + [NetworkStatus.declined] * round(members * 0.03)
    )
    statuses += [NetworkStatus.excluded] * (members - 1 - len(statuses))
    rng.shuffle(statuses)
    statuses.insert(0, NetworkStatus.member)
    bordeaux = next(c for c in COMMUNES if c[0] == "Bordeaux")

    member_rows, mandate_rows, member_theme_rows = [], [], []
    people: list[_Member] = []
    for i, status in enumerate(statuses):
        pid, member_id = next_person + i, i + 1
        bench = i == 0
        commune = bordeaux if bench else rng.choice(COMMUNES)
        level = (
            L.municipal if bench else rng.choices(list(LEVEL_WEIGHTS), LEVEL_WEIGHTS.values())[0]
        )
        if level is L.departemental and commune[1] in NO_DEPARTEMENT_COUNCIL:
            level = L.municipal
        if bench:
            name, email = "Élu·e du banc d'essai", MEMBER_EMAIL
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            email = f"elu{pid}@reseau.commun.example"
        applied = now - timedelta(days=rng.uniform(2, 1000))
        person_rows.append(person_row(pid, email, name, applied - timedelta(days=1)))

        # Mandates: a first one (mostly under way), perhaps the term before on the same
        # council, an intercommunal seat for a municipal councillor, another level.
        add = _MandateAdder(rng, today, pid, applied, mandate_rows)
        council, dep = council_of(level, commune, rng)
        back = 0 if bench or rng.random() < 0.9 else 1
        late = not bench and rng.random() < 0.1
        add(level, council, dep, back, late=late, role=R.conseiller if bench else None)
        if rng.random() < 0.3:
            add(level, council, dep, back + 1)
        if level is L.municipal and (bench or rng.random() < 0.45):
            interco, _dep = council_of(L.intercommunal, commune, rng)
            add(L.intercommunal, interco, dep, back, role=R.conseiller if bench else None)
        if not bench and rng.random() < 0.08:
            other = rng.choice([L.departemental, L.regional])
            if not (other is L.departemental and commune[1] in NO_DEPARTEMENT_COUNCIL):
                add(other, *council_of(other, commune, rng), 0)
        departement = None if level is L.francais_etranger else commune[1]
        where = f"à {commune[0]}" if departement else "des Français de l'étranger"

        decided = (
            None
            if status is NetworkStatus.pending
            else applied + timedelta(days=rng.uniform(1, 20))
        )
        if decided is not None and decided > now:
            decided = now - timedelta(hours=1)
        if status is NetworkStatus.excluded:
            decided = decided + (now - decided) * rng.random()
        reason = DECISION_REASONS.get(status, "")
        member_rows.append(
            dict(
                id=member_id,
                person_id=pid,
                status=status,
                motivation="Partager nos textes et apprendre des autres élu·es du mouvement.",
                presentation=(
                    f"Élu·e {where}, je travaille surtout sur "
                    f"{rng.choice(words_of[pick_themes(1)[0]])}."
                ),
                departement=departement,
                applied_at=applied,
                decided_at=decided,
                decided_by_id=rng.choice(team_ids) if decided else None,
                decision_reason=reason,
                notify_mode=NotifyMode.daily if rng.random() < 0.2 else NotifyMode.immediate,
                digest_sent_at=None,
            )
        )
        for t in pick_themes(3 if bench else rng.choice((0, 1, 2, 2, 3, 4))):
            member_theme_rows.append(dict(member_id=member_id, theme_id=t))
        people.append(_Member(pid, member_id, status, commune, departement, level, council))
    for mid, row in enumerate(mandate_rows, start=1):
        row["id"] = mid

    bench_member = people[0]
    active = [p for p in people[1:] if p.status is NetworkStatus.member]
    authors = [p for p in people[1:] if p.status in (NetworkStatus.member, NetworkStatus.excluded)]
    author_weights = [rng.lognormvariate(0, 1) for _ in authors]  # some share a lot

    # Resources.
    resource_rows, level_rows, res_theme_rows, reuse_rows = [], [], [], []
    texts: dict[int, str] = {}
    themes_of: dict[int, list[int]] = {}
    levels_of: dict[int, list[MandateLevel]] = {}
    kinds = list(KIND_WEIGHTS)
    for rid in range(1, resources + 1):
        author = rng.choices(authors, author_weights)[0]
        kind = rng.choices(kinds, KIND_WEIGHTS.values())[0]
        tids = pick_themes(rng.choices((1, 2, 3), (45, 40, 15))[0])
        picked = [rng.choice(words_of[t]) for t in tids] + [rng.choice(words_of[tids[0]])]
        kw, kw2 = picked[0], picked[1]
        place = author.commune[0] if author.departement else "l'étranger"
        title = f"{rng.choice(KIND_TITLES[kind])} — {bare(kw)}"
        if kw2 != kw and rng.random() < 0.4:
            title += f" et {kw2}"
        if rng.random() < 0.5:
            title += f" ({place})"
        council = author.council if kind not in (ResourceKind.note_juridique,) else ""
        values = dict(
            council=author.council,
            commune=de(place),
            side="l'opposition" if rng.random() < 0.5 else "la majorité",
        )
        summary = _fill_sentence(rng.choice(SUMMARIES), kw=kw, kw2=kw2, **values)
        paragraphs = []
        for _ in range(rng.randint(2, 4)):
            sentences = [
                _fill_sentence(rng.choice(THEME_SENTENCES), kw=rng.choice(picked), **values)
                for _ in range(rng.randint(1, 3))
            ] + rng.sample(GENERIC_SENTENCES, rng.randint(1, 3))
            rng.shuffle(sentences)
            paragraphs.append(" ".join(sentences))
        steps = "\n".join(
            f"{n}. {_fill_sentence(step, kw=rng.choice(picked))}"
            for n, step in enumerate(rng.sample(DISPOSITIF, rng.randint(2, 4)), 1)
        )
        body = (
            f"## Exposé des motifs\n\n{paragraphs[0]}\n\n"
            + "\n\n".join(paragraphs[1:])
            + f"\n\n## Ce que nous proposons\n\n{steps}\n\n"
            + f"**Contact :** le groupe {de(place)}, via l'annuaire du réseau."
        )
        created = now - timedelta(days=rng.uniform(0.5, 1100))
        voted = kind in VOTED
        decided_on = (created - timedelta(days=rng.uniform(0, 60))).date() if voted else None
        outcome = rng.choices(list(ResourceOutcome), (50, 35, 15))[0] if voted else None
        updated = created + (now - created) * rng.random() if rng.random() < 0.1 else created
        row = dict(
            id=rid,
            author_id=author.person_id,
            kind=kind,
            title=title[:200],
            summary=summary,
            body=body,
            council=council,
            departement=author.departement,
            decided_on=decided_on,
            outcome=outcome,
            reuse_count=0,
            created_at=created,
            updated_at=updated,
            updated_by_id=author.person_id,
        )
        # The very text the app indexes, computed by the app's own function.
        with _folding_cached():
            row["search_text"] = search_text_of(Resource(**row), [theme_name[t] for t in tids])
        resource_rows.append(row)
        texts[rid] = row["search_text"]
        themes_of[rid] = tids
        res_theme_rows += [dict(resource_id=rid, theme_id=t) for t in tids]
        levels = [author.level]
        for _ in range(rng.choices((0, 1, 2), (55, 35, 10))[0]):
            extra = rng.choices(list(LEVEL_WEIGHTS), LEVEL_WEIGHTS.values())[0]
            if extra not in levels:
                levels.append(extra)
        levels_of[rid] = levels
        level_rows += [dict(resource_id=rid, level=lv) for lv in levels]
        # Reuses: most resources none, a few many.
        if rng.random() < 0.35:
            count = min(int(rng.expovariate(1 / 4)) + 1, 150)
            reusers = {p.person_id for p in rng.sample(active, count + 1)} - {author.person_id}
            reusers = sorted(reusers)[:count]
            for person_id in reusers:
                note = f"Repris au {rng.choice(REUSE_PLACES)}" if rng.random() < 0.3 else ""
                reuse_rows.append(
                    dict(
                        resource_id=rid,
                        person_id=person_id,
                        note=note,
                        created_at=created + (now - created) * rng.random(),
                    )
                )
            row["reuse_count"] = len(reusers)
    for i, row in enumerate(reuse_rows, start=1):
        row["id"] = i

    # Threads and posts: about `posts` / `threads` posts each (log-normal), every poster
    # follows the thread, a few posts hidden by the team, some quoting an earlier one.
    mu = math.log(posts / threads) - 0.18
    counts = [min(200, max(1, round(rng.lognormvariate(mu, 0.6)))) for _ in range(threads)]
    while (diff := posts - sum(counts)) != 0:
        i = rng.randrange(threads)
        step = 1 if diff > 0 else -1
        if 1 <= counts[i] + step <= 200:
            counts[i] += step
    thread_rows, post_rows, subscription_rows = [], [], []
    post_id = 0
    hidden_total = 0
    for tid, count in enumerate(counts, start=1):
        author = rng.choice(active)
        theme = rng.choices(theme_ids, theme_weights)[0]
        kw = rng.choice(words_of[theme])
        created = now - timedelta(days=rng.uniform(1, 730))
        span = (now - created) * min(1.0, rng.uniform(0.02, 0.5))
        times = sorted(created + span * rng.random() for _ in range(count - 1))
        participants = [author] + rng.sample(active, min(len(active), 2 + count // 3))
        visible, last_visible, thread_posts = 0, created, []
        followers: list[int] = []
        for n, at in enumerate([created, *times]):
            poster = author if n == 0 else rng.choice(participants)
            post_id += 1
            hidden = n > 0 and rng.random() < 0.01
            quoted = None
            if thread_posts and rng.random() < 0.12:
                quoted = rng.choice(thread_posts)
            sentences = [rng.choice(POST_OPENINGS)] + [
                _fill_sentence(rng.choice(POST_SENTENCES), kw=rng.choice(words_of[theme]))
                for _ in range(rng.randint(1, 4))
            ]
            body = " ".join(sentences)
            if rng.random() < 0.2:
                body += "\n\n- " + "\n- ".join(bare(w) for w in rng.sample(words_of[theme], 2))
            post_rows.append(
                dict(
                    id=post_id,
                    thread_id=tid,
                    author_id=poster.person_id,
                    body=body,
                    quoted_post_id=quoted,
                    created_at=at,
                    hidden_at=min(now, at + timedelta(hours=rng.uniform(1, 48)))
                    if hidden
                    else None,
                    hidden_by_id=rng.choice(team_ids) if hidden else None,
                    hidden_reason="Attaque personnelle contre un·e autre élu·e." if hidden else "",
                )
            )
            if hidden:
                hidden_total += 1
            else:
                visible += 1
                last_visible = at
                thread_posts.append(post_id)
            if poster.person_id not in followers:
                followers.append(poster.person_id)
        thread_rows.append(
            dict(
                id=tid,
                title=f"{bare(kw)} : {rng.choice(THREAD_QUESTIONS)}",
                author_id=author.person_id,
                theme_id=theme,
                level=rng.choice(list(LEVEL_WEIGHTS)) if rng.random() < 0.45 else None,
                created_at=created,
                last_post_at=last_visible,
                post_count=visible,
            )
        )
        subscription_rows += [
            dict(person_id=p, thread_id=tid, theme_id=None, created_at=created) for p in followers
        ]
    # Members following themes (the bench member too).
    for p in [bench_member, *active]:
        if p is bench_member or rng.random() < 0.25:
            for t in pick_themes(2 if p is bench_member else rng.randint(1, 3)):
                subscription_rows.append(
                    dict(person_id=p.person_id, thread_id=None, theme_id=t, created_at=now)
                )
    for i, row in enumerate(subscription_rows, start=1):
        row["id"] = i

    phases = {"build": time.perf_counter() - started}
    tables = [
        (Person.__table__, person_rows),
        (NetworkTheme.__table__, theme_rows),
        (NetworkMember.__table__, member_rows),
        (network_member_theme, member_theme_rows),
        (Mandate.__table__, mandate_rows),
        (Resource.__table__, resource_rows),
        (ResourceLevel.__table__, level_rows),
        (resource_theme, res_theme_rows),
        (ResourceReuse.__table__, reuse_rows),
        (Thread.__table__, thread_rows),
        (Post.__table__, post_rows),
        (Subscription.__table__, subscription_rows),
    ]
    with engine.begin() as conn:
        for table, rows in tables:
            _insert(conn, table, rows)
        if engine.dialect.name == "postgresql":
            for table, _rows in tables:
                if "id" in table.c:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT max(id) FROM {table.name}))"
                        )
                    )
        phases["insert"] = time.perf_counter() - started - sum(phases.values())
        _check(conn, today)
        phases["check"] = time.perf_counter() - started - sum(phases.values())
    with engine.connect() as conn:
        names = ", ".join(table.name for table, _rows in tables)
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(f"ANALYZE {names}"))
        else:
            for table, _rows in tables:
                conn.exec_driver_sql(f"ANALYZE {table.name}")
            conn.commit()

    phases["analyze"] = time.perf_counter() - started - sum(phases.values())
    counts_by_table = {table.name: len(rows) for table, rows in tables}
    counts_by_table["members"] = sum(s is NetworkStatus.member for s in statuses)
    counts_by_table["hidden"] = hidden_total
    data = NetworkData(
        member_email=MEMBER_EMAIL,
        member_password=MEMBER_PASSWORD,
        member_person_id=bench_member.person_id,
        resource_ids=[row["id"] for row in resource_rows],
        thread_ids=[
            row["id"]
            for row in thread_rows
            if row["post_count"] in THREAD_POSTS and row["post_count"] == counts[row["id"] - 1]
        ],
        search_words=list(SEARCH_WORDS),
        counts=counts_by_table,
    )

    # What the scenarios will find, read through the app's own services.
    for word in SEARCH_WORDS:
        hits = search_resources(LibraryFilters(q=word)).total
        data.search_hits[word] = hits
        if not SEARCH_HITS_MIN <= hits <= SEARCH_HITS_MAX_SHARE * resources:
            raise RuntimeError(f"the search for {word!r} finds {hits} resources of {resources}")
    lowered = {rid: t.casefold() for rid, t in texts.items()}
    for word in SEARCH_WORDS:
        key = word.casefold()
        having = [rid for rid, t in lowered.items() if key in t]
        for rid in rng.sample(having, 6):
            query = {
                "q": word,
                "type": resource_rows[rid - 1]["kind"].value,
                "niveau": rng.choice(levels_of[rid]).value,
                "theme": rng.choice(themes_of[rid]),
            }
            filters = LibraryFilters(
                q=word,
                kind=ResourceKind(query["type"]),
                level=MandateLevel(query["niveau"]),
                theme_id=query["theme"],
            )
            if search_resources(filters).total:  # a prefix of another word is not a match
                data.filter_queries.append(urlencode(query))
    if len(data.filter_queries) < 20:
        raise RuntimeError(f"only {len(data.filter_queries)} filtered searches find anything")
    data.directory_total = directory_page(DirectoryFilters(L.municipal, "33"), 1, 30)[1]
    if not 30 < data.directory_total < 300:
        raise RuntimeError(f"the directory finds {data.directory_total} municipal members in 33")
    if len(data.thread_ids) < 20:
        raise RuntimeError(f"only {len(data.thread_ids)} threads of about 30 posts")
    db.session.remove()
    data.seconds = time.perf_counter() - started
    phases["app reads"] = data.seconds - sum(phases.values())
    data.phases = phases
    return data


def _check(conn, today: date) -> None:
    """The rules of the app, checked on what was written."""
    problems = []
    allowed = or_(
        *(and_(Mandate.level == lv, Mandate.role.in_(r)) for lv, r in ROLES_BY_LEVEL.items())
    )
    if n := conn.scalar(select(func.count()).select_from(Mandate).where(~allowed)):
        problems.append(f"{n} mandates whose role their level does not allow")
    a, b = aliased(Mandate), aliased(Mandate)
    overlapping = conn.scalar(
        select(func.count())
        .select_from(a)
        .join(
            b,
            and_(
                a.person_id == b.person_id,
                a.level == b.level,
                a.council_key == b.council_key,
                a.id < b.id,
            ),
        )
        .where(
            or_(a.ends_on.is_(None), a.ends_on >= b.starts_on),
            or_(b.ends_on.is_(None), b.ends_on >= a.starts_on),
        )
    )
    if overlapping:
        problems.append(f"{overlapping} pairs of overlapping mandates on one council")
    reuses = select(func.count()).where(ResourceReuse.resource_id == Resource.id)
    if n := conn.scalar(
        select(func.count())
        .select_from(Resource)
        .where(Resource.reuse_count != reuses.scalar_subquery())
    ):
        problems.append(f"{n} resources whose reuse_count differs from their rows")
    if n := conn.scalar(
        select(func.count())
        .select_from(ResourceReuse)
        .join(Resource, Resource.id == ResourceReuse.resource_id)
        .where(Resource.author_id == ResourceReuse.person_id)
    ):
        problems.append(f"{n} reuses by the resource's own author")
    shown = select(func.count()).where(Post.thread_id == Thread.id, Post.hidden_at.is_(None))
    last = select(func.max(Post.created_at)).where(
        Post.thread_id == Thread.id, Post.hidden_at.is_(None)
    )
    if n := conn.scalar(
        select(func.count())
        .select_from(Thread)
        .where(
            (Thread.post_count != shown.scalar_subquery())
            | (Thread.last_post_at != last.scalar_subquery())
        )
    ):
        problems.append(f"{n} threads whose post_count or last_post_at differ from their posts")
    unfollowed = conn.scalar(
        select(func.count()).select_from(
            select(Post.thread_id, Post.author_id)
            .where(
                ~select(Subscription.id)
                .where(
                    Subscription.thread_id == Post.thread_id,
                    Subscription.person_id == Post.author_id,
                )
                .exists()
            )
            .distinct()
            .subquery()
        )
    )
    if unfollowed:
        problems.append(f"{unfollowed} posters who do not follow their thread")
    if conn.dialect.name == "sqlite":
        indexed = conn.scalar(text("SELECT count(*) FROM resource_fts_docsize"))
        total = conn.scalar(select(func.count()).select_from(Resource))
        if indexed != total:
            problems.append(f"FTS5 indexes {indexed} resources of {total}")
    if problems:
        raise RuntimeError("network data: " + "; ".join(problems))
