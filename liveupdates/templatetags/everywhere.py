"""Template tags of the live page everywhere (issue 15): the push alerts' public key."""

from django import template

from liveupdates.delivery import push

register = template.Library()


@register.simple_tag
def vapid_public_key():
    """Our VAPID public key for the browser's applicationServerKey ("" when alerts are not set up)."""
    return push.public_key()
