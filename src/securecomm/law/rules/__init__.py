"""Rules per source document. Each module exports ``VARIABLES`` and/or ``RULES``.

- ``common``: shared variables (ages, conviction counts)
- ``removability``: INA 212/237, simplified (DESIGN 3.2)
- ``levels``: Morton March 2, 2011 criminal levels (DESIGN 3.3)
- ``priorities_morton`` / ``priorities_johnson``: enforcement priorities (DESIGN 3.4)
- ``protections``: Morton June 17, 2011 victims and witnesses (DESIGN 3.5)
- ``actions``: the action rules of each pack with precedence (DESIGN 3.6)
- ``discretion``: discretion factors (DESIGN 3.7)
- ``disclosure``: information returned to the LEA (DESIGN 3.8)
"""
