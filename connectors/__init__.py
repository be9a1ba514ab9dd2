"""Connectors: read sources and yield `RawItem`s (or `Rejected`); never publish.

Feeds are polled by `connectors.poller.FeedPoller` (each poll a typed `PollOutcome`);
saved files are read by `connectors.replay.ReplayConnector`.
"""
