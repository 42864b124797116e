"""The judge's evidence: what the conformance suite holds the client and the simulator to.

The tree separates the parts that *produce* cassettes (``conformance/simulator``, the
recording machinery in ``conformance/cassettes.py``) from the parts that *judge* them.
This package is the judge's ground truth, and it is written from sources the project does
not control:

- :mod:`.facts`    per-provider facts (``facts/<id>.yaml``), each citing its evidence: a spec
                   location, a real recording, an official SDK file at a commit, or a
                   documentation URL with the date it was read; a fact without a source is
                   ``assumed``;
- :mod:`.specs`    the providers' own machine-readable API descriptions (``--specs DIR``):
                   OpenAPI components and Gemini protos, compiled to JSON Schema validators
                   once per session;
- :mod:`.spec_checks`  request / response / chunk / error bodies and manifest declarations
                   judged against those specs;
- :mod:`.protos`   Gemini's protos read as JSON Schema (no protoc here);
- :mod:`.observed` real traffic (``--observed DIR``): recordings replayed through the client
                   and the provider facts they show compared with the manifest;
- :mod:`.cells`    the ``spec`` and ``observed`` columns of the matrix, and the evidence level
                   of every other cell;
- :mod:`.provider_facts`  the provider-facts page's rows, each fact with its level and source;
- :mod:`.mutations`  the mutation self-test: how sensitive all of the above is.

Nothing here imports the simulator, and nothing here reads a manifest to decide what is
right: a manifest is only ever the thing being judged.
"""
