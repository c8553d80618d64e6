"""placeholder"""


def list_materials(actor, group, workshop=None):
    return []
