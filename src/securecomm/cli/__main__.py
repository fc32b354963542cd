"""``python -m securecomm.cli``: the same as the ``securecomm`` console script."""

from . import main

main()
