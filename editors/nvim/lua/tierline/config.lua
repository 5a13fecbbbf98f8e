---@mod tierline.config Options and their defaults
local M = {}

--- Filetypes the server attaches to by default: the languages tierline parses with tree-sitter
--- plus common ones it scores with its indentation fallback. `filetypes = "*"` means every file.
M.default_filetypes = {
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
  "java", "c", "cpp", "lua", "sh", "bash", "zsh", "ruby", "php", "cs", "kotlin", "swift",
  "scala", "zig", "haskell", "elixir", "ocaml", "sql",
}

---@class tierline.Keymaps
---@field accept string|false          accept the whole suggestion (falls through when none is shown)
---@field accept_word string|false     accept the next word
---@field accept_line string|false     accept the rest of the line (or the next line)
---@field dismiss string|false         hide the suggestion
---@field trigger string|false         ask for a suggestion now (trigger kind Invoked)
---@field escalate string|false        send the next request to the premium tier and ask now
---@field next string|false            show the next item (alternatives); with none to cycle, ask (Invoked)
---@field prev string|false            show the previous item
---@field snooze string|false          snooze automatic suggestions (5 minutes), or resume when snoozed

---@class tierline.Options
M.defaults = {
  -- The language server command. `tierline serve` talks LSP on stdio.
  cmd = { "tierline", "serve" },
  -- Extra environment for the server process (e.g. { TIERLINE_CONFIG = "~/tl.toml" }).
  cmd_env = nil,
  -- Filetypes to attach to: a list, or "*" for every file buffer.
  filetypes = M.default_filetypes,
  -- Files that mark a workspace root; the server reads `.tierline.toml` from there.
  root_markers = { ".tierline.toml", ".git" },
  -- Server config overrides, same keys as the TOML file (e.g. { budget = { daily_usd = 2 } }).
  -- Sent as `initializationOptions` and as `workspace/didChangeConfiguration` section `tierline`.
  settings = {},
  -- Ask for a suggestion while typing in insert mode. `false`: only on `keymaps.trigger`.
  auto_trigger = true,
  -- Extra wait after the last keystroke before asking (mirrors `[completion] debounce_ms`). 0: ask on
  -- every change and let the server decide how long to wait (`[completion] latency_vs_cost`): it
  -- knows the tier, what a wasted call costs and the typing rhythm, and a newer request supersedes.
  debounce_ms = 0,
  -- Use Neovim's own `vim.lsp.inline_completion` when it exists (0.12+): true, false or "auto".
  native = "auto",
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-w>",
    accept_line = "<M-l>",
    dismiss = "<C-]>",
    trigger = "<M-\\>",
    -- Cycle through the items (VS Code's Alt+] / Alt+[): the cheap and premium answers beside the
    -- chosen tier's, when an invoked request is near a tier boundary.
    next = "<M-]>",
    prev = "<M-[>",
    escalate = false,
    snooze = "<M-z>",
  },
  -- Highlight group of the ghost text (defined with `default = true`, linked to Comment).
  hl_group = "TierlineSuggestion",
}

---@type tierline.Options
M.options = vim.deepcopy(M.defaults)

--- Lists replace lists (a deep merge would mix them index by index).
local function merge(base, override)
  if type(base) ~= "table" or type(override) ~= "table" or vim.islist(override) then
    return vim.deepcopy(override)
  end
  local out = vim.deepcopy(base)
  for k, v in pairs(override) do
    if type(v) == "table" and type(out[k]) == "table" and not vim.islist(v) and k ~= "settings" then
      out[k] = merge(out[k], v)
    else
      out[k] = vim.deepcopy(v)
    end
  end
  return out
end

---@param opts? table
---@return tierline.Options
function M.set(opts)
  opts = opts or {}
  local function check(name, ok, expected)
    if not ok then
      error(("tierline.setup: %s: expected %s"):format(name, expected), 3)
    end
  end
  check("opts", type(opts) == "table", "a table")
  local o = merge(M.defaults, opts)
  check("cmd", (type(o.cmd) == "table" and type(o.cmd[1]) == "string") or type(o.cmd) == "function",
    "a list of strings (command and arguments)")
  check("filetypes", o.filetypes == "*" or type(o.filetypes) == "table", 'a list of filetypes or "*"')
  check("settings", type(o.settings) == "table", "a table (server config keys)")
  check("auto_trigger", type(o.auto_trigger) == "boolean", "a boolean")
  check("debounce_ms", type(o.debounce_ms) == "number" and o.debounce_ms >= 0, "a number >= 0")
  check("keymaps", type(o.keymaps) == "table", "a table")
  for k, v in pairs(o.keymaps) do
    check("keymaps." .. k, v == false or type(v) == "string", "a key (string) or false")
  end
  M.options = o
  return o
end

--- Whether the native (0.12+) inline completion is in use.
function M.use_native()
  local n = M.options.native
  if n == false then
    return false
  end
  return vim.lsp.inline_completion ~= nil and type(vim.lsp.inline_completion.enable) == "function"
end

return M
