"""`gongzhi simulate`: a task force's mechanism run for a simulated year from its `simulation.yaml`.

Imports point one way: simulation → engine, db. Nothing here names a mechanism; what people do, when
and how often late is the task force's data file.
"""
