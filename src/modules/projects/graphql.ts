// GraphQL adapters for projects.
import { z } from "zod";
import { builder } from "../../graphql/builder.ts";
import { requestMetaOf } from "../../graphql/context.ts";
import { NodeInterface, nodeLoader } from "../../graphql/node.ts";
import {
  countProjects,
  createProject,
  deleteProject,
  findProject,
  findProjects,
  updateProject,
} from "./service.ts";

export const ProjectType = builder.prismaObject("Project", {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    deletedAt: t.expose("deletedAt", { type: "DateTime", nullable: true }),
  }),
});

nodeLoader("Project", (ctx, id) => findProject(ctx.deps, ctx.actor, id));

builder.queryFields((t) => ({
  projects: t.prismaConnection(
    {
      type: "Project",
      cursor: "id",
      authScopes: { authenticated: true },
      totalCount: (_root, _args, ctx) => countProjects(ctx.deps, ctx.actor),
      resolve: (query, _root, _args, ctx) => findProjects(ctx.deps, ctx.actor, query),
    },
    { name: "ProjectConnection" },
    { name: "ProjectEdge" },
  ),
  project: t.prismaField({
    type: "Project",
    nullable: true,
    authScopes: { authenticated: true },
    description: "Null for an unknown id, and for another tenant's id.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => findProject(ctx.deps, ctx.actor, id, query),
  }),
}));

const name = z.string().trim().min(1, "must not be empty").max(200);
const description = z.string().max(2000);

const CreateProjectInput = builder.inputType("CreateProjectInput", {
  fields: (t) => ({
    name: t.string({ required: true, validate: name }),
    description: t.string({ validate: description }),
  }),
});

const UpdateProjectInput = builder.inputType("UpdateProjectInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ validate: name }),
    description: t.string({ validate: description }),
  }),
});

builder.mutationFields((t) => ({
  createProject: t.field({
    type: ProjectType,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createProject(ctx.deps, ctx.actor, input, requestMetaOf(ctx)),
  }),
  updateProject: t.field({
    type: ProjectType,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UpdateProjectInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      updateProject(ctx.deps, ctx.actor, input, requestMetaOf(ctx)),
  }),
  deleteProject: t.field({
    type: ProjectType,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => deleteProject(ctx.deps, ctx.actor, id, requestMetaOf(ctx)),
  }),
}));
