"""Connectors: read sources and yield `RawItem`s (or `Rejected`); never publish.

The contract every connector implements is `connectors.base.Connector`.
"""
