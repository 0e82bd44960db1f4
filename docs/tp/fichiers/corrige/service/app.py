"""TP, séance 9 : le corrigé du service instrumenté (docs/tp/fr/corrige-09.md).

Le fichier de l'exercice (docs/tp/fichiers/service/app.py), dont chaque
« À FAIRE » est complété ; comparez les deux fichiers avec

  diff -u docs/tp/fichiers/service/app.py docs/tp/fichiers/corrige/service/app.py

Dans le lab :

  STUDENT_SERVICE_DIR=./docs/tp/fichiers/corrige/service \
      docker compose --profile instrumentation up -d
"""

import os
import random
import threading
import time

from flask import Flask, g, jsonify, request
from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app
from werkzeug.middleware.dispatcher import DispatcherMiddleware

# (1) Les trois métriques. Les noms suivent les conventions de Prometheus :
# un préfixe propre au service, l'unité de base en suffixe (_seconds), et
# _total pour un compteur (prometheus_client l'ajoute lui-même au nom donné).
REQUETES = Counter(
    "bibliotheque_http_requests", "Requêtes HTTP servies, par méthode, route et code de statut.",
    ["method", "route", "status"])
# Les bornes encadrent les latences du service : 5 ms sépare l'accueil du
# reste, 25 ms couvre les fiches (10 à 20 ms), 0,1 s les recherches rapides
# (30 à 70 ms), 0,25 s sépare rapide et lent, 0,5 s couvre les recherches
# lentes (300 à 450 ms) ; 1 s et +Inf pour ce qui n'est pas prévu.
DUREE = Histogram(
    "bibliotheque_http_request_duration_seconds", "Durée des requêtes HTTP, par route.",
    ["route"], buckets=(0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
EN_COURS = Gauge(
    "bibliotheque_http_requests_in_progress", "Requêtes HTTP en cours de traitement.")

app = Flask(__name__)

_tirages = random.Random(int(os.environ.get("SEED", "2026")))
_verrou = threading.Lock()


def tirage():
    """Un nombre entre 0 et 1 ; un verrou, car Flask sert chaque requête dans
    son propre fil d'exécution."""
    with _verrou:
        return _tirages.random()


@app.before_request
def debut_requete():
    g.debut = time.perf_counter()
    EN_COURS.inc()  # (2)


@app.after_request
def fin_requete(reponse):
    duree = time.perf_counter() - g.debut
    # (3) Le modèle de la route, jamais le chemin : /livres/1, /livres/2...
    # donneraient une série par livre (Q9.4). Une adresse inconnue n'a pas
    # de modèle : toutes comptent sous une seule valeur.
    route = request.url_rule.rule if request.url_rule else "<inconnue>"
    REQUETES.labels(request.method, route, str(reponse.status_code)).inc()
    DUREE.labels(route).observe(duree)
    return reponse


@app.teardown_request
def apres_requete(erreur):
    EN_COURS.dec()  # (2, suite) : appelée même quand la vue a levé une exception


@app.get("/")
def accueil():
    return jsonify(service="bibliotheque", routes=["/livres/<id>", "/recherche?q=..."])


@app.get("/livres/<int:livre_id>")
def livre(livre_id):
    time.sleep(0.010 + 0.010 * tirage())
    if livre_id > 100:
        return jsonify(erreur=f"pas de livre numéro {livre_id}"), 404
    return jsonify(id=livre_id, titre=f"Livre numéro {livre_id}")


@app.get("/recherche")
def recherche():
    u = tirage()
    if u < 0.10:
        time.sleep(0.010)
        return jsonify(erreur="index indisponible"), 500
    if u < 0.30:
        time.sleep(0.300 + 0.150 * tirage())
    else:
        time.sleep(0.030 + 0.040 * tirage())
    return jsonify(q=request.args.get("q", ""), resultats=[1, 7, 42])


# (4) /metrics servi par prometheus_client, devant Flask : les lectures de
# Prometheus ne passent pas par les fonctions ci-dessus et ne se comptent pas.
app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": make_wsgi_app()})

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")),
            threaded=True)
