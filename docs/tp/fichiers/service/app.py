"""TP, séance 9 : le service à instrumenter (docs/tp/fr/09-instrumenter.md).

Une petite bibliothèque en ligne écrite avec Flask, sans aucune métrique.
Trois routes :

  GET /                      l'accueil, immédiat
  GET /livres/<livre_id>     la fiche d'un livre : 10 à 20 ms ; 404 au-delà
                             du numéro 100
  GET /recherche?q=...       une recherche : 70 % en 30 à 70 ms, 20 % en
                             300 à 450 ms (l'index est froid), 10 % en
                             échec 500 au bout de 10 ms

Les tirages viennent d'un générateur pseudo-aléatoire de graine SEED (2026
par défaut) : à trafic égal, les chiffres d'une séance à l'autre sont les
mêmes à quelques pour cent près.

Votre travail : les commentaires « À FAIRE » ci-dessous. Lancer le service
hors du lab (après `pip install -r requirements.txt`) :

  python3 app.py                 # écoute sur 0.0.0.0:8000 (PORT, HOST)

Dans le lab : docker compose --profile instrumentation up -d
"""

import os
import random
import threading
import time

from flask import Flask, g, jsonify, request

# À FAIRE (1) : importer Counter, Gauge, Histogram et make_wsgi_app depuis
# prometheus_client, puis déclarer les trois métriques du service :
#   - un compteur des requêtes servies, par méthode, route et code de statut ;
#   - un histogramme de leur durée en secondes, par route, avec des bornes
#     choisies d'après les latences décrites en tête de fichier ;
#   - une jauge des requêtes en cours de traitement.

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
    # À FAIRE (2) : une requête de plus en cours de traitement.


@app.after_request
def fin_requete(reponse):
    duree = time.perf_counter() - g.debut  # noqa: F841 (à utiliser : À FAIRE 3)
    # À FAIRE (3) : compter la requête et observer sa durée. Pour la route,
    # prenez le modèle de la route (request.url_rule.rule, par exemple
    # "/livres/<int:livre_id>"), pas le chemin demandé (request.path) :
    # pourquoi ? C'est la question Q9.4. Une adresse inconnue n'a pas de
    # modèle (request.url_rule vaut None).
    return reponse


@app.teardown_request
def apres_requete(erreur):
    # À FAIRE (2, suite) : une requête de moins en cours, qu'elle ait réussi
    # ou non (teardown_request est appelée dans tous les cas).
    pass


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


# À FAIRE (4) : servir les métriques sur /metrics. prometheus_client fournit
# une application WSGI (make_wsgi_app) ; la monter devant celle de Flask :
#   from werkzeug.middleware.dispatcher import DispatcherMiddleware
#   app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": make_wsgi_app()})
# Ainsi, /metrics ne passe pas par les fonctions ci-dessus : le service ne se
# compte pas lui-même quand Prometheus le lit.

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")),
            threaded=True)
