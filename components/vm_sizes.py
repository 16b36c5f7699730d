"""Facts about Azure VM sizes that both the settings rules and the cluster component need.

Plain data, no Pulumi imports: the node pool rule (`validate_node_pool`, components/aks_rules.py, which
the settings and the components both call) checks an Ephemeral OS disk against it, and
components/node_pool.py picks the OS disk type from it.
"""

# VM size -> the largest ephemeral OS disk it can hold, in GiB: the bigger of its cache and its temp
# (resource) disk. Source: Azure VM size docs (Ddsv5/Ddsv5-AMD/Edsv5 "temp storage", Dsv3/DSv2 "cache
# size"), 2026. Sizes not listed get a managed OS disk under `osDiskType: auto`; add a size here, or
# force `osDiskType: Ephemeral` in the stack config.
EPHEMERAL_OS_DISK_MAX_GB: dict[str, int] = {
    "Standard_D2ds_v5": 75,
    "Standard_D4ds_v5": 150,
    "Standard_D8ds_v5": 300,
    "Standard_D16ds_v5": 600,
    "Standard_D32ds_v5": 1200,
    "Standard_D2ads_v5": 75,
    "Standard_D4ads_v5": 150,
    "Standard_D8ads_v5": 300,
    "Standard_D16ads_v5": 600,
    "Standard_E2ds_v5": 75,
    "Standard_E4ds_v5": 150,
    "Standard_E8ds_v5": 300,
    "Standard_DS2_v2": 86,
    "Standard_D2s_v3": 50,
    "Standard_D4s_v3": 100,
    "Standard_D8s_v3": 200,
}
