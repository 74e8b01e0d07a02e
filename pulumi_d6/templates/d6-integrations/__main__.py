"""The d6 integrations this repository manages, declared in Pulumi.<stack>.yaml (see README.md).

`integrations` lists schools explicitly; `activateAllAuthorised` takes every school that has
authorised one of the given API types. The program itself is part of pulumi-d6.
"""

from pulumi_d6.program import main

main()
