#!/usr/bin/env python3
"""Checks proto/openapi.yaml: valid YAML, OpenAPI 3.1, every $ref resolves, every operation has an operationId
and answers. Prints the problems and exits 1 if there are any."""
import sys

import yaml

METHODS = {"get", "put", "post", "delete", "patch"}


def resolve(document, ref):
    node = document
    for key in ref.removeprefix("#/").split("/"):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def main(path):
    with open(path) as file:
        document = yaml.safe_load(file)
    problems = []
    if document.get("openapi") != "3.1.0":
        problems.append(f"openapi is {document.get('openapi')!r}, not 3.1.0")
    problems += [f"unresolved $ref {ref}" for ref in refs(document) if resolve(document, ref) is None]
    for route, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if "operationId" not in operation:
                problems.append(f"{method.upper()} {route} has no operationId")
            if not operation.get("responses"):
                problems.append(f"{method.upper()} {route} lists no responses")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "proto/openapi.yaml"))
