"""The Python half of the shipped rules, beside the YAML that uses them.

Each module holds one family of check templates (a rule's YAML picks one by
name and sets its parameters).  The engine finds them through the
``riskkit.check_templates`` entry point, as it would a third-party family.
"""
