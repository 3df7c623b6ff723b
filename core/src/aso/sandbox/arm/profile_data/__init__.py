"""Built-in provider profiles of the ARM emulator: one YAML file per service, plain data.

A package only so that the YAML files ship as package data; ``aso.sandbox.arm.profiles`` loads them.
"""
