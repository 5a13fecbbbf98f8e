-- tierline: commands, highlights and the attach hook. Starting the server is up to
-- require("tierline").setup() or vim.lsp.enable("tierline") (Neovim 0.11+).
if vim.g.loaded_tierline == 1 or vim.fn.has("nvim-0.10") == 0 then
  return
end
vim.g.loaded_tierline = 1
require("tierline").init()
