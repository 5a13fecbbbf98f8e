-- Config for vim.lsp.enable("tierline") (Neovim 0.11+). Built from require("tierline").setup()
-- options when setup ran, else from the defaults; vim.lsp.config("tierline", {...}) still
-- overrides any field.
return require("tierline.lsp").client_config()
