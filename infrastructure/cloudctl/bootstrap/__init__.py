"""Bootstrap: from an empty AWS account to a K3s cluster whose Argo CD syncs clusters/<env>.

Subcommands: up, down, status, plan, cost (see infrastructure/cloudctl/README.md).
"""
