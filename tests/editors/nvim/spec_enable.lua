-- Without setup(): vim.lsp.config + vim.lsp.enable("tierline") (Neovim 0.11+) with lsp/tierline.lua.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  H.load_plugin()
  vim.lsp.config("tierline", { cmd = { H.env("TIERLINE_SERVER"), "serve" } })
  vim.lsp.enable("tierline")
  local bufnr = H.open_sample()

  H.test("lsp/tierline.lua starts the server for a python buffer", function()
    local client = H.wait_client(bufnr, "the tierline client")
    H.truthy(client.config.root_dir, "root_dir is set")
  end)

  H.test("ghost text and <Tab> work without setup()", function()
    H.type_and_accept(bufnr, "value = ")
  end)

  H.test("a buffer of another filetype gets no client", function()
    H.to_normal()
    vim.cmd("enew")
    vim.bo.filetype = "text"
    local text_buf = vim.api.nvim_get_current_buf()
    -- The FileType autocmd schedules a start (root_dir is a function), so a text buffer could
    -- get its client later. A Python file opened after it is scheduled after it: once that one
    -- has its client, whatever was scheduled for the text buffer has run too.
    local later = vim.fs.joinpath(vim.fn.fnamemodify(H.env("TIERLINE_TEST_FILE"), ":h"), "later.py")
    vim.fn.writefile({ "def later():", "    pass" }, later)
    vim.cmd.split(vim.fn.fnameescape(later))
    local later_buf = vim.api.nvim_get_current_buf()
    H.eq("python", vim.bo[later_buf].filetype, "filetype of later.py")
    H.wait(20000, function()
      return #vim.lsp.get_clients({ bufnr = later_buf, name = "tierline" }) == 1
    end, "the tierline client on later.py")
    H.eq(0, #vim.lsp.get_clients({ bufnr = text_buf, name = "tierline", _uninitialized = true }), "clients on a text buffer")
    vim.cmd("close")
  end)
end)
