{
  "targets": [
    {
      "target_name": "nlc_addon",
      "sources": ["<!@(ls -1 addon/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "addon"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "ldflags": ["-Wl,-z,now"]
    },
    {
      "target_name": "nlc-init",
      "type": "executable",
      "sources": ["<!@(ls -1 addon/init/*.cc)"],
      "include_dirs": ["addon/init"],
      "defines": ["_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-fno-rtti"],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
      # Static (no ld.so, no libc/libstdc++ relocation at every start: 0.66 ms per spawn and
      # exit against 0.95-1.08 ms dynamically linked, measured here), still position
      # independent so the root helper keeps ASLR (-static alone: 0.55 ms).
      "ldflags": ["-static-pie"]
    },
    {
      # The same helper against musl, where the machine has it (best effort; see the script):
      # glibc's start-up probes the CPU, which costs a VM a trap per instruction.
      "target_name": "nlc-init-musl",
      "type": "none",
      "actions": [
        {
          "action_name": "build_init_musl",
          "inputs": ["<!@(ls -1 addon/init/*.cc addon/init/*.h addon/init/musl/*)", "scripts/build-init-musl.js"],
          "outputs": ["<(PRODUCT_DIR)/nlc-init-musl"],
          "action": ["node", "scripts/build-init-musl.js", "<(PRODUCT_DIR)/nlc-init-musl"]
        }
      ]
    }
  ]
}
