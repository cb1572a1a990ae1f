"""Voluntary visits to military facilities: offers, answers, the visit's life, requests, reports and remarks."""
