from flask import Blueprint

bp = Blueprint("auth", __name__)

# Imported for their routes on `bp`: sign-in (views), /account, its sessions and tokens
# (devices), password reset and email verification (recovery), two-factor sign-in.
from . import account, devices, recovery, two_factor, views
