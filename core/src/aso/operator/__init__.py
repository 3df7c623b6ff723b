"""The operator: one generic reconciler for every registered kind, run by kopf (``aso run``).

Layers, each importing only those below it: ``settings`` -> ``kubeapi``/``arm``/``credentials``/
``mapping``/``conditions`` -> ``reconciler`` -> ``app``.
"""
