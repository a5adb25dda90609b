"""Inventory service: the movie catalogue (CRUD on the `inventory` database)."""

from __future__ import annotations

from collections.abc import Mapping

from common import jsonlog, validation
from common.config import load_or_exit
from common.db import Database
from common.errors import ApiError
from common.web import create_base_app
from flask import Flask, Response, jsonify, request, url_for

from inventory import movies
from inventory.config import SETTINGS

SERVICE = "inventory"
MAX_TEXT = 200
MOVIE_FIELDS = {"title": validation.text(MAX_TEXT), "director": validation.text(MAX_TEXT)}
# The load balancer forwards /inventory/* unchanged, so every route also answers there.
PREFIXES = ("", "/inventory")


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    values = load_or_exit(SETTINGS, environ)
    jsonlog.configure(SERVICE, values["LOG_LEVEL"])
    db = Database(values["DATABASE_URL"])
    app = create_base_app(SERVICE, values, {"database": db.ping})
    app.extensions["database"] = db

    def not_found(movie_id: int) -> ApiError:
        return ApiError(404, f"movie {movie_id} not found")

    def list_movies() -> Response:
        limit, offset = validation.pagination(request.args)
        title = request.args.get("title")
        if title is not None:
            try:
                title = validation.text(MAX_TEXT)(title)
            except ValueError as exc:
                raise ApiError(400, f"title: {exc}", field="title") from None
        items = movies.list_movies(db, title, limit, offset)
        return jsonify(items=items, limit=limit, offset=offset)

    def create_movie() -> tuple[Response, int, dict[str, str]]:
        fields = validation.validate(validation.json_object(), MOVIE_FIELDS)
        movie = movies.create_movie(db, fields["title"], fields["director"])
        location = url_for(request.endpoint, _external=False) + f"/{movie['id']}"
        return jsonify(movie), 201, {"Location": location}

    def get_movie(movie_id: str) -> Response:
        ident = validation.path_id(movie_id)
        found = movies.get_movie(db, ident)
        if found is None:
            raise not_found(ident)
        return jsonify(found)

    def replace_movie(movie_id: str) -> Response:
        ident = validation.path_id(movie_id)
        fields = validation.validate(validation.json_object(), MOVIE_FIELDS)
        updated = movies.update_movie(db, ident, fields["title"], fields["director"])
        if updated is None:
            raise not_found(ident)
        return jsonify(updated)

    def delete_movie(movie_id: str) -> tuple[str, int]:
        ident = validation.path_id(movie_id)
        if not movies.delete_movie(db, ident):
            raise not_found(ident)
        return "", 204

    for prefix in PREFIXES:
        name = prefix.strip("/") or "root"
        app.add_url_rule(f"{prefix}/movies", f"{name}_list", list_movies, methods=["GET"])
        app.add_url_rule(f"{prefix}/movies", f"{name}_create", create_movie, methods=["POST"])
        app.add_url_rule(f"{prefix}/movies/<movie_id>", f"{name}_get", get_movie, methods=["GET"])
        app.add_url_rule(f"{prefix}/movies/<movie_id>", f"{name}_replace", replace_movie, methods=["PUT"])
        app.add_url_rule(f"{prefix}/movies/<movie_id>", f"{name}_delete", delete_movie, methods=["DELETE"])
    return app
