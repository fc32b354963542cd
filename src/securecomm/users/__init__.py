"""Registered users: one identity per person (issue 9 item 2, issue 10 item 2).

* :mod:`.service` -- register, disable, authenticate, resolve (``require_user``) users.
* :mod:`.names` -- name normalisation and Unicode TR 39 confusable skeletons (pure).
* :mod:`.areas` -- ICE areas of responsibility and the county-to-AOR crosswalk (pure).
* :mod:`.commands` -- ``securecomm users add|list|disable|password|api-key``.
"""
