"""Graph tools: simplify, edits and recipes, surgery, post-processing."""
