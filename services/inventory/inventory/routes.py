"""The catalogue's HTTP routes: /movies and /movies/<id> (registered twice, see create_app)."""

from __future__ import annotations

from common import validation
from common.db import Database
from common.errors import ApiError
from flask import Blueprint, Response, current_app, jsonify, request, url_for

from inventory import movies

MAX_TEXT = 200
MOVIE_FIELDS = {"title": validation.text(MAX_TEXT), "director": validation.text(MAX_TEXT)}

bp = Blueprint("movies", __name__)


def database() -> Database:
    return current_app.extensions["database"]


def not_found(movie_id: int) -> ApiError:
    return ApiError(404, f"movie {movie_id} not found")


@bp.get("/movies")
def list_movies() -> Response:
    limit, offset = validation.pagination(request.args)
    title = request.args.get("title")
    if title is not None:
        try:
            title = validation.text(MAX_TEXT)(title)
        except ValueError as exc:
            raise ApiError(400, f"title: {exc}", field="title") from None
    items = movies.list_movies(database(), title, limit, offset)
    return jsonify(items=items, limit=limit, offset=offset)


@bp.post("/movies")
def create_movie() -> tuple[Response, int, dict[str, str]]:
    fields = validation.validate(validation.json_object(), MOVIE_FIELDS)
    movie = movies.create_movie(database(), fields["title"], fields["director"])
    return jsonify(movie), 201, {"Location": url_for(".get_movie", movie_id=movie["id"])}


@bp.get("/movies/<movie_id>")
def get_movie(movie_id: str) -> Response:
    ident = validation.path_id(movie_id)
    found = movies.get_movie(database(), ident)
    if found is None:
        raise not_found(ident)
    return jsonify(found)


@bp.put("/movies/<movie_id>")
def replace_movie(movie_id: str) -> Response:
    ident = validation.path_id(movie_id)
    fields = validation.validate(validation.json_object(), MOVIE_FIELDS)
    updated = movies.update_movie(database(), ident, fields["title"], fields["director"])
    if updated is None:
        raise not_found(ident)
    return jsonify(updated)


@bp.delete("/movies/<movie_id>")
def delete_movie(movie_id: str) -> tuple[str, int]:
    ident = validation.path_id(movie_id)
    if not movies.delete_movie(database(), ident):
        raise not_found(ident)
    return "", 204
