"""Readers' side of cards: their archived images (public entries only) and the page explaining verification labels."""

import hashlib
import mimetypes

from django.http import Http404, HttpResponse
from django.shortcuts import render

from liveupdates.models import Card, Verification, VerificationMethod
from liveupdates.site.views import answer_conditionally, public_for

IMAGE_MAX_AGE = 1  # like a page: a withdrawn entry's card image is gone from every cache within seconds


def card_image(request, pk, stamp):
    """A card's re-encoded image, only while the entry that places it is public (Card.objects.public())."""
    card = Card.objects.public().filter(pk=pk).exclude(image="").first()
    if card is None:
        raise Http404("No such image.")
    try:
        with card.image.open("rb") as file:
            data = file.read()
    except OSError as error:
        raise Http404("No such image.") from error
    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    content_type = mimetypes.guess_type(card.image.name)[0] or "application/octet-stream"
    return answer_conditionally(request, etag, public_for(IMAGE_MAX_AGE), lambda: HttpResponse(data, content_type=content_type))


def verification(request):
    return render(
        request,
        "liveupdates/verification.html",
        {"states": [s for s in Verification if s], "methods": [m for m in VerificationMethod if m]},
    )
