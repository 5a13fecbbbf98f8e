--- tierline: AI inline completions routed to the cheapest model tier that can do them well.
---
---   require("tierline").setup({ ... })   -- see :help tierline-options
local api = vim.api
local config = require("tierline.config")
local lsp = require("tierline.lsp")

local M = {}

local function engine()
  if config.use_native() then
    return require("tierline.native")
  end
  return require("tierline.ghost")
end

local initialized = false

--- Highlights, commands, the LspAttach hook and the notification handler. Idempotent; run by
--- plugin/tierline.lua and by setup() (plugin managers may add the runtimepath late).
function M.init()
  if initialized then
    return
  end
  initialized = true
  api.nvim_set_hl(0, "TierlineSuggestion", { link = "Comment", default = true })
  api.nvim_create_autocmd("ColorScheme", {
    group = api.nvim_create_augroup("tierline.highlights", { clear = true }),
    callback = function()
      api.nvim_set_hl(0, "TierlineSuggestion", { link = "Comment", default = true })
    end,
  })
  require("tierline.commands").create()
  if not vim.lsp.handlers["tierline/didRoute"] then
    vim.lsp.handlers["tierline/didRoute"] = lsp.on_did_route
  end
  local group = api.nvim_create_augroup("tierline.attach", { clear = true })
  -- A snooze set or ended elsewhere (another Neovim, VS Code: it is the user's) shows on return.
  api.nvim_create_autocmd("FocusGained", {
    group = group,
    callback = function()
      if #vim.lsp.get_clients({ name = lsp.name }) > 0 then
        require("tierline.status").refresh()
      end
    end,
  })
  api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
      if client and client.name == lsp.name then
        M.attach(client, args.buf)
      end
    end,
  })
  api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
      if client and client.name == lsp.name then
        M.detach(args.buf)
      end
    end,
  })
  -- Clients that attached before this ran.
  for _, client in ipairs(vim.lsp.get_clients({ name = lsp.name })) do
    for bufnr in pairs(client.attached_buffers or {}) do
      M.attach(client, bufnr)
    end
  end
end

local attached = {} ---@type table<integer, boolean>
local stats_fetched = {} ---@type table<integer, boolean>

--- Called for each buffer the tierline client attaches to.
function M.attach(client, bufnr)
  if attached[bufnr] then
    return
  end
  attached[bufnr] = true
  engine().attach(client, bufnr)
  require("tierline.keymaps").attach(bufnr)
  if not stats_fetched[client.id] then
    stats_fetched[client.id] = true
    require("tierline.status").refresh(client.id) -- today's spend for the statusline
  end
end

function M.detach(bufnr)
  if not attached[bufnr] then
    return
  end
  attached[bufnr] = nil
  engine().detach(bufnr)
  require("tierline.keymaps").detach(bufnr)
end

--- Configure and start. See :help tierline-setup.
---@param opts? table
function M.setup(opts)
  config.set(opts)
  M.init()
  if vim.lsp.config ~= nil and vim.lsp.enable ~= nil and vim.fn.has("nvim-0.11") == 1 then
    -- lsp/tierline.lua builds the config from these options; enable() re-resolves it.
    vim.lsp.enable(lsp.name)
  else
    local group = api.nvim_create_augroup("tierline.start", { clear = true })
    api.nvim_create_autocmd("FileType", {
      group = group,
      callback = function(args)
        lsp.start(args.buf)
      end,
    })
    for _, bufnr in ipairs(api.nvim_list_bufs()) do
      if api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" then
        lsp.start(bufnr)
      end
    end
  end
end

--- Whether a suggestion is shown in the current buffer.
function M.is_visible()
  return engine().is_visible()
end

--- Accept the whole suggestion. Returns false when none is shown.
function M.accept()
  return engine().accept("all")
end

function M.accept_word()
  return engine().accept("word")
end

function M.accept_line()
  return engine().accept("line")
end

function M.dismiss()
  return engine().dismiss()
end

--- Show the next item (an invoked request near a tier boundary has the cheap and premium answers
--- too); with one or none shown, ask for them first.
function M.next()
  return engine().cycle(1)
end

--- Show the previous item.
function M.prev()
  return engine().cycle(-1)
end

--- Ask for a suggestion at the cursor now (insert mode).
function M.trigger()
  return engine().trigger()
end

--- The text of the shown suggestion still to be inserted (extmark engine only).
function M.get_suggestion()
  local e = engine()
  return e.get_text and e.get_text() or nil
end

--- Send the next completion request to the premium tier; in insert mode ask right away.
---@param callback? fun(err: table?, result: any)
function M.escalate(callback)
  local insert = api.nvim_get_mode().mode:sub(1, 1) == "i"
  return lsp.execute("tierline.escalate", {}, function(err, result)
    if callback then
      callback(err, result)
    end
    if err then
      vim.notify("tierline: escalate failed: " .. tostring(err.message), vim.log.levels.ERROR)
      return
    end
    pcall(api.nvim_exec_autocmds, "User", { pattern = "TierlineEscalated", modeline = false })
    if insert and api.nvim_get_mode().mode:sub(1, 1) == "i" then
      M.trigger()
    elseif not callback then
      vim.notify("tierline: the next completion goes to the premium tier", vim.log.levels.INFO)
    end
  end)
end

--- `tierline.stats` → callback(err, stats).
function M.stats(callback)
  return lsp.execute("tierline.stats", nil, function(err, result)
    if not err then
      require("tierline.status").on_stats(result)
    end
    callback(err, result)
  end)
end

--- Open the stats float (:TierlineStats).
function M.show_stats()
  return require("tierline.stats").show()
end

--- Features, score, tier and model for the cursor position (:TierlineExplain).
function M.explain(callback)
  local client = lsp.get_client(0)
  if not client then
    vim.notify("tierline: no language server attached", vim.log.levels.WARN)
    return false
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding or "utf-16")
  return lsp.execute("tierline.explain", { params.textDocument.uri, params.position }, function(err, result)
    if callback then
      return callback(err, result)
    end
    if err or type(result) ~= "table" then
      vim.notify("tierline: explain failed: " .. tostring(err and err.message), vim.log.levels.ERROR)
      return
    end
    local lines = {
      ("score %.3f  →  %s  (%s)"):format(tonumber(result.score) or 0, tostring(result.tier),
        result.model ~= vim.NIL and tostring(result.model) or "no model"),
      "",
    }
    local keys = vim.tbl_keys(result.features or {})
    table.sort(keys)
    for _, k in ipairs(keys) do
      lines[#lines + 1] = ("%-18s %s"):format(k, vim.inspect(result.features[k]))
    end
    require("tierline.stats").open_float(lines, "tierline explain")
  end)
end

--- Snooze automatic suggestions for `minutes` (0 resumes; nil: 5). See :TierlineSnooze.
---@param minutes? number
---@param callback? fun(err: table?, result: any)
function M.snooze(minutes, callback)
  return require("tierline.snooze").snooze(minutes, callback)
end

function M.clear_cache()
  return lsp.execute("tierline.clearCache", {}, function(err)
    if not err then
      vim.notify("tierline: cache cleared", vim.log.levels.INFO)
    end
  end)
end

--- Turn automatic suggestions on/off (nil toggles).
function M.set_auto_trigger(on)
  if on == nil then
    on = not config.options.auto_trigger
  end
  config.options.auto_trigger = on
  if not on then
    pcall(M.dismiss)
  end
  vim.notify("tierline: automatic suggestions " .. (on and "on" or "off"), vim.log.levels.INFO)
end

--- Replace the server settings and send them (`workspace/didChangeConfiguration`).
function M.set_settings(settings)
  config.options.settings = settings or {}
  lsp.push_settings(config.options.settings)
end

--- Statusline component: `cheap·deepseek-v4-flash $0.0021` (tier, model of the last
--- completion, today's spend); "" while no tierline server runs.
function M.statusline()
  return require("tierline.status").render()
end

--- The last `tierline/didRoute` params, or nil.
function M.last_route()
  return require("tierline.status").state.last_route
end

return M
