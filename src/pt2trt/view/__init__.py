"""Seeing a graph: summary, SVG, Netron."""
